/** The running config as plain, redacted JSON for `GET /config`. */
import type { Snapshot } from '../config/snapshot.js';
import { redact } from './redact.js';

export function configView(snapshot: Snapshot, generation: number): unknown {
  const plugin = (p: { name: string; config: unknown; where: { file: string; line: number; col: number } }) => ({
    [p.name]: redact(p.config),
    at: `${p.where.file}:${p.where.line}:${p.where.col}`,
  });
  return {
    generation,
    files: snapshot.files,
    settings: redact(snapshot.settings),
    globalPlugins: snapshot.globalPlugins.map(plugin),
    services: Object.fromEntries(
      [...snapshot.services.values()].map((s) => {
        const { tlsMaterial, fingerprint, where, name, ...rest } = s;
        void tlsMaterial;
        void fingerprint;
        void name;
        return [s.name, { ...(redact(rest) as object), at: `${where.file}:${where.line}:${where.col}` }];
      }),
    ),
    // Streams as written (tls names its files; the key material read at load is left out).
    streams: snapshot.streams.map((st) => {
      const { tlsMaterial, where, ...rest } = st;
      void tlsMaterial;
      return { ...(redact(rest) as object), at: `${where.file}:${where.line}:${where.col}` };
    }),
    routes: snapshot.routes.map((r) => {
      // grpcCall and ingress hold parsed protobuf types (cyclic); the route's own keys say the same.
      const { routePlugins, where, plugins, aggregatePlan, grpcCall, ingress, ...rest } = r;
      void plugins;
      void grpcCall;
      void aggregatePlan; // derived from `aggregate`, which is shown as written
      // An ingress route's internal match (and its secret header) is shown as written: match.grpc.
      if (ingress) Object.assign(rest, { match: { grpc: ingress.name }, upstream: { ...rest.upstream, stripPrefix: undefined } });
      return { ...(redact(rest) as object), plugins: routePlugins.map(plugin), at: `${where.file}:${where.line}:${where.col}` };
    }),
  };
}
