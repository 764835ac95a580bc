/**
 * gRPC ingress routes at load: `match: { grpc: "pkg.Service/Method" }` with an upstream. Each becomes a
 * hidden HTTP route that only the gateway's own gRPC server can reach (a per-process secret header), so the
 * route's plugins and the proxy run for gRPC calls exactly as for REST requests.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ConfigIssue, Segment } from '../../config/diagnostics.js';
import type { RouteConfig } from '../../config/schema.js';
import type { PluginUse, RouteEntry } from '../../config/snapshot.js';
import type { SourceFile } from '../../config/source.js';
import { didYouMean } from '../../config/suggest.js';
import { httpRules } from './annotations.js';
import type { IngressCall } from './binding.js';
import { findMethod, loadProto, methodNames, type LoadedProto } from './proto.js';

export const INGRESS_PREFIX = '/__gatehouse/grpc';
export const INGRESS_HEADER = 'x-gatehouse-grpc-ingress';
/** Never leaves the process: the header is removed before plugins run and never reaches an upstream. */
export const INGRESS_SECRET = randomBytes(24).toString('hex');

/** The internal path prefix of one method's ingress route. */
export function ingressPrefix(name: string): string {
  return `${INGRESS_PREFIX}/${name}`;
}

/** Parses grpcServer.protos (relative to gatehouse.yaml); problems at grpcServer.protos[i]. */
export async function loadServerProtos(source: SourceFile, files: readonly string[], issues: ConfigIssue[]): Promise<LoadedProto[]> {
  const out: LoadedProto[] = [];
  for (const [i, file] of files.entries()) {
    try {
      out.push(await loadProto(path.resolve(path.dirname(source.absolute), file)));
    } catch (err) {
      issues.push(source.issue(['grpcServer', 'protos', i], `cannot load ${file}: ${(err as Error).message}`));
    }
  }
  return out;
}

export interface IngressPending {
  readonly route: RouteConfig;
  readonly source: SourceFile;
  readonly path: Segment[];
  readonly routePlugins: readonly PluginUse[];
}

/** The hidden route entry for an ingress route, or undefined after reporting why not. */
export function resolveIngressRoute(p: IngressPending, protos: readonly LoadedProto[] | undefined, issues: ConfigIssue[]): RouteEntry | undefined {
  const { route, source } = p;
  const name = route.match!.grpc!;
  const at = [...p.path, 'match', 'grpc'];
  if (route.match!.path !== undefined) {
    issues.push(source.issue([...p.path, 'match', 'path'], 'a gRPC ingress route matches by match.grpc; remove match.path'));
    return undefined;
  }
  if (!route.upstream) {
    issues.push(source.issue(p.path, 'a gRPC ingress route (match.grpc) needs upstream: { service }'));
    return undefined;
  }
  if (route.upstream.stripPrefix !== undefined || route.upstream.rewrite !== undefined) {
    issues.push(source.issue([...p.path, 'upstream'], 'a gRPC ingress route takes its upstream path from the google.api.http rule; remove stripPrefix/rewrite'));
    return undefined;
  }
  if (!protos) {
    issues.push(source.issue(at, 'needs grpcServer: { port, protos: [...] } in gatehouse.yaml'));
    return undefined;
  }
  const found = protos.map((l) => findMethod(l.root, name)).find((m) => m !== undefined);
  if (!found) {
    issues.push(source.issue(at, `no grpcServer.protos file has method "${name}"${didYouMean(name, protos.flatMap((l) => methodNames(l.root)))}`));
    return undefined;
  }
  if (found.requestStream || found.responseStream) {
    issues.push(source.issue(at, `${name} is a streaming method; gRPC ingress serves unary methods`));
    return undefined;
  }
  const rule = httpRules(found)[0];
  if (rule === undefined || typeof rule === 'string') {
    issues.push(source.issue(at, rule ?? `${name} has no google.api.http option to say which HTTP request it becomes`));
    return undefined;
  }
  const ingress: IngressCall = {
    name,
    requestType: found.resolvedRequestType!,
    responseType: found.resolvedResponseType!,
    httpMethod: rule.httpMethod,
    template: rule.template,
    body: rule.body,
  };
  const prefix = ingressPrefix(name);
  return Object.freeze({
    ...route,
    match: { path: `${prefix}/*`, headers: { [INGRESS_HEADER]: INGRESS_SECRET } },
    methods: [rule.httpMethod],
    upstream: { ...route.upstream, stripPrefix: prefix },
    routePlugins: p.routePlugins,
    ingress,
    where: { file: source.display, ...source.locate(at) },
  });
}
