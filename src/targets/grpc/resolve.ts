/** Load-time work for grpc routes: read the proto, find the method(s), bind REST paths to them, report what does not fit. */
import path from 'node:path';
import type protobuf from 'protobufjs';
import type { ConfigIssue, Segment } from '../../config/diagnostics.js';
import type { HttpMatch, RouteConfig } from '../../config/schema.js';
import type { PluginUse, RouteEntry, ServiceEntry } from '../../config/snapshot.js';
import { displayPath, type SourceFile } from '../../config/source.js';
import { didYouMean } from '../../config/suggest.js';
import { patternParams } from '../../routing/upstream-path.js';
import { compileRule, httpRules } from './annotations.js';
import type { GrpcCall, HttpBinding } from './binding.js';
import { findMethod, grpcPath, loadProto, methodNames, type LoadedProto } from './proto.js';
import { resolveFieldPath } from './transcode.js';

export interface PendingGrpcRoute {
  readonly route: RouteConfig;
  readonly source: SourceFile;
  readonly path: Segment[];
  readonly routePlugins: readonly PluginUse[];
  readonly methods: readonly string[];
}

export interface PlacedRouteEntry {
  value: RouteEntry;
  source: SourceFile;
  path: Segment[];
}

/** Headers of a gRPC request that are the protocol's own (or connection-specific, which HTTP/2 refuses), not metadata. */
const RESERVED_REQUEST_METADATA: ReadonlySet<string> = new Set([
  'content-type', 'te', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'user-agent', 'host',
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings',
]);

/** Parsed protos by absolute path, for one load. */
export type ProtoCache = Map<string, Promise<LoadedProto | string>>;

function loadCached(cache: ProtoCache, file: string): Promise<LoadedProto | string> {
  let p = cache.get(file);
  if (!p) {
    p = loadProto(file).catch((err: Error) => err.message.replace(file, displayPath(file)));
    cache.set(file, p);
  }
  return p;
}

/** Checks that every path-bound field and the body field exist in the request type; returns the problem. */
function checkBinding(type: protobuf.Type, binding: HttpBinding): string | undefined {
  for (const pf of binding.pathFields) {
    const fields = resolveFieldPath(type, pf.field);
    if (!fields) return `path variable {${pf.field}} is not a field of ${type.name}${didYouMean(pf.field, type.fieldsArray.map((f) => f.name))}`;
    const leaf = fields[fields.length - 1]!;
    if (leaf.repeated || leaf.map || (leaf.resolvedType && 'fields' in leaf.resolvedType && !leaf.resolvedType.fullName.startsWith('.google.protobuf.'))) {
      return `path variable {${pf.field}} must be a scalar field of ${type.name}`;
    }
  }
  if (binding.body !== '' && binding.body !== '*' && !resolveFieldPath(type, binding.body)) {
    return `body field "${binding.body}" is not a field of ${type.name}`;
  }
  return undefined;
}

function callOf(route: RouteConfig, method: protobuf.Method, binding: HttpBinding): GrpcCall {
  const g = route.grpc!;
  return {
    service: g.service,
    name: grpcPath(method).slice(1),
    path: grpcPath(method),
    requestType: method.resolvedRequestType!,
    responseType: method.resolvedResponseType!,
    serverStreaming: method.responseStream === true,
    binding,
    timeout: g.timeout,
    requestMetadata: g.metadata.request.map((h) => h.toLowerCase()),
    responseMetadata: g.metadata.response.map((h) => h.toLowerCase()),
  };
}

/** Every annotated method of every (non-google) service in the proto. */
function annotatedMethods(root: protobuf.Root): protobuf.Method[] {
  return methodNames(root)
    .filter((n) => !n.startsWith('google.'))
    .map((n) => findMethod(root, n)!)
    .filter((m) => httpRules(m).length > 0);
}

/** Turns a grpc route into its route entries (one, or one per http rule); problems go to `issues`. */
export async function resolveGrpcRoute(
  pending: PendingGrpcRoute,
  services: ReadonlyMap<string, ServiceEntry>,
  cache: ProtoCache,
  issues: ConfigIssue[],
): Promise<PlacedRouteEntry[]> {
  const { route, source } = pending;
  const g = route.grpc!;
  const at = [...pending.path, 'grpc'];
  const service = services.get(g.service);
  let ok = true;
  if (!service) {
    issues.push(source.issue([...at, 'service'], `unknown service "${g.service}"${didYouMean(g.service, services.keys())}`));
    ok = false;
  } else if (service.protocol !== 'grpc') {
    issues.push(source.issue([...at, 'service'], `service "${g.service}" has protocol ${service.protocol}; grpc routes need a service with protocol: grpc`));
    ok = false;
  }
  g.metadata.request.forEach((name, i) => {
    if (RESERVED_REQUEST_METADATA.has(name.toLowerCase())) {
      issues.push(source.issue([...at, 'metadata', 'request', i], `"${name}" cannot be sent as metadata: the gateway sets it for the call (or HTTP/2 forbids it)`));
      ok = false;
    }
  });
  if ((g.method === undefined) === (g.annotations !== true)) {
    issues.push(source.issue(at, 'needs exactly one of method: pkg.Service/Method or annotations: true'));
    return [];
  }
  const file = path.resolve(path.dirname(source.absolute), g.proto);
  const loaded = await loadCached(cache, file);
  if (typeof loaded === 'string') {
    issues.push(source.issue([...at, 'proto'], `cannot load ${g.proto}: ${loaded}`));
    return [];
  }
  const where = (p: Segment[]) => ({ file: source.display, ...source.locate(p) });
  const base = { ...route, routePlugins: pending.routePlugins };

  if (route.match?.grpc !== undefined) {
    issues.push(source.issue([...pending.path, 'match', 'grpc'], 'match.grpc is for gRPC ingress routes with an upstream; a grpc route matches REST requests by path'));
    return [];
  }
  if (g.method !== undefined) {
    if (route.match?.path === undefined) {
      issues.push(source.issue(pending.path, 'needs match.path (or grpc.annotations: true)'));
      return [];
    }
    const method = findMethod(loaded.root, g.method);
    if (!method) {
      issues.push(source.issue([...at, 'method'], `${g.proto} has no method "${g.method}"${didYouMean(g.method, methodNames(loaded.root))}`));
      return [];
    }
    if (method.requestStream) {
      issues.push(source.issue([...at, 'method'], `${g.method} takes a client stream; only unary and server-streaming methods can be called from REST`));
      return [];
    }
    const match = { ...route.match, path: route.match.path };
    const { params } = patternParams(match.path);
    const binding: HttpBinding = {
      httpMethod: '*',
      path: match.path,
      template: match.path,
      pathFields: params.map((p) => ({ field: p, parts: [{ param: p }] })),
      body: '*',
      queryWithWholeBody: true,
    };
    const type = method.resolvedRequestType!;
    for (const p of params) {
      if (!resolveFieldPath(type, p)) {
        issues.push(source.issue([...pending.path, 'match', 'path'], `path parameter :${p} is not a field of ${type.name}${didYouMean(p, type.fieldsArray.map((f) => f.name))}`));
        ok = false;
      }
    }
    if (!ok) return [];
    return [{ value: Object.freeze({ ...base, match, methods: pending.methods, grpcCall: callOf(route, method, binding), where: where(pending.path) }), source, path: pending.path }];
  }

  if (route.match) {
    issues.push(source.issue([...pending.path, 'match'], 'annotations routes take their paths from the proto; remove match'));
    return [];
  }
  const methods = annotatedMethods(loaded.root);
  if (methods.length === 0) issues.push(source.issue([...at, 'annotations'], `${g.proto} has no method with a google.api.http option`));
  const out: PlacedRouteEntry[] = [];
  for (const method of methods) {
    const name = grpcPath(method).slice(1);
    if (method.requestStream) continue;
    httpRules(method).forEach((rule, i) => {
      const problem = (msg: string) => issues.push(source.issue([...at, 'proto'], `${name}: ${msg}`));
      if (typeof rule === 'string') return problem(rule);
      const binding = compileRule(rule, g.prefix);
      if (typeof binding === 'string') return problem(binding);
      if (!(['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'] as string[]).includes(binding.httpMethod)) return problem(`HTTP method ${binding.httpMethod} is not supported`);
      const bad = checkBinding(method.resolvedRequestType!, binding);
      if (bad) return problem(bad);
      const match: HttpMatch = { path: binding.path, methods: [binding.httpMethod] as never[] };
      const id = `${route.id}:${name}${i === 0 ? '' : `#${i + 1}`}`;
      out.push({
        value: Object.freeze({ ...base, id, match, methods: [binding.httpMethod], grpcCall: callOf(route, method, binding), where: where(at) }),
        source,
        path: at,
      });
    });
  }
  return ok ? out : [];
}
