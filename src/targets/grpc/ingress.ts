/**
 * gRPC ingress (gatehouse.yaml grpcServer): a gRPC server whose unary calls become the HTTP request their
 * google.api.http rule describes. Each call is injected into the running app as a request to the method's
 * hidden ingress route, so that route's plugins (auth from `authorization` metadata, rate limits) and the
 * proxy (balancer, timeouts) apply. The JSON answer becomes the response message; HTTP errors become statuses.
 */
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './deps.js';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type protobuf from 'protobufjs';
import type { RouteEntry, Snapshot } from '../../config/snapshot.js';
import type { IngressCall } from './binding.js';
import { httpRules } from './annotations.js';
import { ingressPrefix, INGRESS_HEADER, INGRESS_SECRET } from './ingress-route.js';
import { jsonToPlain, JsonMappingError, messageToJson } from './json.js';
import { findMethod, grpcPath, methodNames, type LoadedProto } from './proto.js';
import { grpcStatusOfHttp } from './status-map.js';
import { resolveFieldPath } from './transcode.js';

type Json = ReturnType<typeof messageToJson>;
type JsonObject = { [key: string]: Json };

export interface IngressHost {
  /** The app and snapshot serving now; `done` must be called when the call has finished. */
  acquire(): { app: FastifyInstance; snapshot: Snapshot; done(): void };
  logger: FastifyBaseLogger;
}

class CallError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

const routesByMethod = new WeakMap<Snapshot, Map<string, RouteEntry>>();
function ingressRoute(snapshot: Snapshot, name: string): RouteEntry | undefined {
  let map = routesByMethod.get(snapshot);
  if (!map) {
    map = new Map(snapshot.routes.filter((r) => r.ingress).map((r) => [r.ingress!.name, r]));
    routesByMethod.set(snapshot, map);
  }
  return map.get(name);
}

function valueAt(obj: JsonObject, fields: protobuf.Field[]): Json | undefined {
  let cur: Json | undefined = obj;
  for (const f of fields) cur = cur && typeof cur === 'object' && !Array.isArray(cur) ? cur[f.name] : undefined;
  return cur;
}

function deleteAt(obj: JsonObject, fields: protobuf.Field[]): void {
  let cur: Json | undefined = obj;
  for (const f of fields.slice(0, -1)) cur = cur && typeof cur === 'object' && !Array.isArray(cur) ? cur[f.name] : undefined;
  if (cur && typeof cur === 'object' && !Array.isArray(cur)) delete cur[fields[fields.length - 1]!.name];
}

function isEmpty(v: Json | undefined): boolean {
  return v === undefined || v === null || v === '' || v === 0 || v === false || v === '0' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
}

/** Unbound, set fields as query pairs: nested messages by dotted name, repeated fields as repeated keys. */
function queryPairs(obj: JsonObject, prefix: string, out: [string, string][]): void {
  for (const [k, v] of Object.entries(obj)) {
    if (isEmpty(v)) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v)) for (const x of v) out.push([key, typeof x === 'object' ? JSON.stringify(x) : String(x)]);
    else if (typeof v === 'object' && v !== null) queryPairs(v, key, out);
    else out.push([key, String(v)]);
  }
}

const VARIABLE = /\{([A-Za-z_][A-Za-z0-9_.]*)(?:=([^}]*))?\}/g;

/** The HTTP request a call's message becomes under its rule. */
export function restRequestOf(call: IngressCall, message: JsonObject): { method: string; url: string; body?: string } {
  const type = call.requestType;
  const rest = structuredClone(message);
  const bound: protobuf.Field[][] = [];
  const path = call.template.replace(VARIABLE, (_all, field: string, pattern: string | undefined) => {
    const fields = resolveFieldPath(type, field);
    const value = fields ? valueAt(message, fields) : undefined;
    if (!fields || isEmpty(value)) throw new CallError(grpcJs().status.INVALID_ARGUMENT, `field ${field} is needed for the request path`);
    bound.push(fields);
    const text = String(value);
    return pattern !== undefined && pattern.includes('/') ? text.split('/').map(encodeURIComponent).join('/') : pattern === '**' ? text.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(text);
  });
  for (const fields of bound) deleteAt(rest, fields);
  let body: string | undefined;
  if (call.body === '*') {
    body = JSON.stringify(rest);
  } else if (call.body !== '') {
    const fields = resolveFieldPath(type, call.body);
    if (fields) {
      body = JSON.stringify(valueAt(rest, fields) ?? {});
      deleteAt(rest, fields);
    }
  }
  const pairs: [string, string][] = [];
  if (call.body !== '*') queryPairs(rest, '', pairs);
  const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return { method: call.httpMethod, url: query ? `${path}?${query}` : path, body };
}

/** Metadata as request headers: text entries only, gRPC's own keys left out. */
function headersOf(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) {
    if (k.endsWith('-bin') || k.startsWith('grpc-') || k.startsWith(':') || k === 'user-agent' || k === 'content-type' || k === 'te') continue;
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

function peerAddress(peer: string): string | undefined {
  const m = /^(?:ipv[46]:)?\[?([0-9a-fA-F.:]+?)\]?:\d+$/.exec(peer);
  return m?.[1];
}

function problemDetail(payload: string, status: number): string {
  try {
    const p = JSON.parse(payload) as { detail?: unknown; message?: unknown };
    if (typeof p.detail === 'string') return p.detail;
    if (typeof p.message === 'string') return p.message;
  } catch {
    /* not JSON */
  }
  return payload.trim().slice(0, 500) || `HTTP ${status}`;
}

export class GrpcIngress {
  private readonly server = new (grpcJs().Server)();
  constructor(
    protos: readonly LoadedProto[],
    private readonly host: IngressHost,
  ) {
    for (const { root } of protos) {
      const byService = new Map<string, Record<string, grpc.MethodDefinition<Buffer, Buffer>>>();
      const impl = new Map<string, grpc.UntypedServiceImplementation>();
      for (const name of methodNames(root)) {
        const method = findMethod(root, name)!;
        if (name.startsWith('google.') || method.requestStream || method.responseStream || httpRules(method).length === 0) continue;
        const service = name.slice(0, name.indexOf('/'));
        const def = byService.get(service) ?? {};
        def[method.name] = {
          path: grpcPath(method),
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        };
        byService.set(service, def);
        const handlers = impl.get(service) ?? {};
        handlers[method.name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => void this.serve(name, call, cb);
        impl.set(service, handlers);
      }
      for (const [service, def] of byService) this.server.addService(def, impl.get(service)!);
    }
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => this.server.bindAsync(`${host}:${port}`, grpcJs().ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  }

  /** Stops taking calls; calls still running get `graceMs` before they are cut. */
  close(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private async serve(name: string, call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): Promise<void> {
    const { app, snapshot, done } = this.host.acquire();
    try {
      const route = ingressRoute(snapshot, name);
      if (!route) throw new CallError(grpcJs().status.UNIMPLEMENTED, `no route serves ${name} (add a route with match: { grpc: "${name}" })`);
      const ingress = route.ingress!;
      const message = messageToJson(ingress.requestType, ingress.requestType.decode(call.request), { defaults: false }) as JsonObject;
      const rest = restRequestOf(ingress, message);
      const headers: Record<string, string> = { ...headersOf(call.metadata), [INGRESS_HEADER]: INGRESS_SECRET };
      if (rest.body !== undefined) headers['content-type'] = 'application/json';
      const res = await app.inject({
        method: rest.method as 'GET',
        url: `${ingressPrefix(name)}${rest.url}`,
        headers,
        payload: rest.body,
        remoteAddress: peerAddress(call.getPeer()),
      });
      if (res.statusCode < 200 || res.statusCode > 299) {
        const { Metadata } = grpcJs();
        const md = new Metadata();
        md.set('x-http-status', String(res.statusCode));
        throw Object.assign(new CallError(grpcStatusOfHttp(res.statusCode), problemDetail(res.payload, res.statusCode)), { metadata: md });
      }
      let json: unknown = {};
      try {
        if (res.payload.trim() !== '') json = JSON.parse(res.payload);
        const plain = jsonToPlain(ingress.responseType, json, '', true) as Record<string, unknown>;
        cb(null, Buffer.from(ingress.responseType.encode(ingress.responseType.fromObject(plain)).finish()));
      } catch (err) {
        throw new CallError(grpcJs().status.INTERNAL, `the REST answer does not fit ${ingress.responseType.name}: ${(err as Error).message}`);
      }
    } catch (err) {
      if (err instanceof CallError) {
        cb({ code: err.code, details: err.message, metadata: (err as CallError & { metadata?: grpc.Metadata }).metadata });
      } else if (err instanceof JsonMappingError) {
        cb({ code: grpcJs().status.INVALID_ARGUMENT, details: err.message });
      } else {
        this.host.logger.error({ err, method: name }, 'gRPC ingress call failed');
        cb({ code: grpcJs().status.INTERNAL, details: 'the gateway failed to handle this call' });
      }
    } finally {
      done();
    }
  }
}
