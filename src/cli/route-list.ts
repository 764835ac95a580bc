/** `gatehouse routes`: the route table as text. */
import type { RouteEntry, Snapshot } from '../config/snapshot.js';
import { HTTP_METHODS } from '../config/schema.js';

/** What a route does, in one short cell: `proxy -> svc`, `aggregate -> a, b`, `grpc -> svc/pkg.Service/Method`. */
export function targetSummary(r: RouteEntry): string {
  if (r.ingress) return `grpc ingress ${r.ingress.name} -> ${r.ingress.httpMethod} ${r.ingress.template} on ${r.upstream!.service}`;
  if (r.grpcCall) return `grpc -> ${r.grpcCall.service}/${r.grpcCall.name}${r.grpcCall.serverStreaming ? ' (server stream)' : ''}`;
  if (r.upstream) return `proxy -> ${r.upstream.service}`;
  if (r.aggregatePlan) return `aggregate -> ${r.aggregatePlan.services.join(', ')}`;
  return 'unknown';
}

/** The same, under the name the gRPC code uses. */
export const targetLabel = targetSummary;

export function routeList(snapshot: Snapshot): string[] {
  const rows = snapshot.routes.map((r) => [
    r.id,
    r.methods.length === HTTP_METHODS.length ? '*' : r.methods.join(','),
    r.match.host ?? '*',
    r.ingress ? `(gRPC ${r.ingress.name})` : r.match.path + (r.match.headers ? ` [${Object.entries(r.match.headers).map(([k, v]) => `${k}=${v}`).join(' ')}]` : ''),
    targetSummary(r),
  ]);
  // Layer-4 streams: protocol TCP, the bind address and port, the tcp service.
  for (const st of snapshot.streams) rows.push([st.id, 'TCP', st.host, `:${st.listen}`, `stream -> ${st.service}${st.tlsMaterial ? ' (TLS terminated)' : ''}`]);
  const head = ['ID', 'METHODS', 'HOST', 'PATH', 'TARGET'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const streams = snapshot.streams.length > 0 ? `, ${snapshot.streams.length} stream${snapshot.streams.length === 1 ? '' : 's'}` : '';
  return [fmt(head), ...rows.map(fmt), `${snapshot.routes.length} route${snapshot.routes.length === 1 ? '' : 's'}, ${snapshot.services.size} service${snapshot.services.size === 1 ? '' : 's'}${streams}`];
}
