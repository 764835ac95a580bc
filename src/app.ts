/** buildApp(snapshot): one Fastify route per config route, its plugin chain as route hooks, its target as handler. */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Snapshot, RouteEntry } from './config/snapshot.js';
import { bodyLimitHooks } from './body-limit.js';
import { ERRORS, GatewayError, sendProblem } from './errors.js';
import { buildChain } from './plugins/chain.js';
import type { PluginRouteInfo } from './plugins/define.js';
import type { SharedRedis } from './redis/shared-redis.js';
import { normalizeTarget } from './routing/normalize-path.js';
import { methodsWithHead, ROUTER_OPTIONS, type RouteTable } from './routing/route-table.js';
import { yielder } from './yield-to-loop.js';
import { createAggregateHandler } from './targets/aggregate/index.js';
import { resilientBackendCall } from './targets/aggregate/resilient-call.js';
import { createGrpcHandler } from './targets/grpc/index.js';
import { INGRESS_HEADER } from './targets/grpc/ingress-route.js';
import { createProxyHandler, type ProxyOptions } from './targets/proxy.js';
import { createWebSocketHandler } from './targets/websocket/index.js';
import { dropConnectionNamed } from './upstream/hop-by-hop.js';
import type { ServiceSet } from './upstream/services.js';
import type { UpstreamService } from './upstream/service.js';
import './request-state.js';
import { observabilityHooks } from './observability/request-hooks.js';
import { createUpstreamObserver } from './observability/upstream-observer.js';
import type { RequestTracer } from './observability/tracing.js';

export interface AppOptions {
  snapshot: Snapshot;
  services: ServiceSet;
  logger: FastifyBaseLogger;
  /** Process-wide tracer (undefined when tracing is off). */
  tracer?: RequestTracer;
  /** The gateway's Redis connection (server.ts owns it); plugins use memory stores without it. */
  redis?: SharedRedis;
}

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
const BAD_TARGET = Symbol('gatehouse.badTarget');
export const MAX_URL_LENGTH = 8192;
export const MAX_HEADER_COUNT = 100;
/** Largest request head (HTTP/1.1: Node's parser enforces it; HTTP/2: refuse() below). */
export const MAX_HEADER_BYTES = 16 * 1024;

type Refusal = { code: 'BAD_REQUEST' | 'URI_TOO_LONG' | 'HEADERS_TOO_LARGE'; reason: string };
type MarkedRequest = http.IncomingMessage & { [BAD_TARGET]?: Refusal };

function refuse(req: http.IncomingMessage): Refusal | string {
  const url = req.url ?? '/';
  if (url.length > MAX_URL_LENGTH) return { code: 'URI_TOO_LONG', reason: `the request target is over ${MAX_URL_LENGTH} bytes` };
  // HTTP/2 requests also list their pseudo-headers (:method, :path, ...) in rawHeaders.
  const pseudo = req.httpVersionMajor === 2 ? countPseudo(req.rawHeaders) : 0;
  if (req.rawHeaders.length - pseudo * 2 > MAX_HEADER_COUNT * 2) return { code: 'HEADERS_TOO_LARGE', reason: `more than ${MAX_HEADER_COUNT} header fields` };
  if (pseudo > 0 && headerBytes(req.rawHeaders) > MAX_HEADER_BYTES) return { code: 'HEADERS_TOO_LARGE', reason: `request headers over ${MAX_HEADER_BYTES} bytes` };
  const n = normalizeTarget(url);
  if (!n.ok) return { code: 'BAD_REQUEST', reason: n.reason };
  if (countHost(req.rawHeaders) > 1) return { code: 'BAD_REQUEST', reason: 'more than one Host header' };
  const authority = req.headers[':authority'];
  if (typeof authority === 'string' && req.headers.host !== undefined && req.headers.host !== authority) {
    return { code: 'BAD_REQUEST', reason: 'Host differs from :authority' };
  }
  return n.url;
}

/** The client's x-request-id when it is usable, else a new one. */
export function requestIdOf(req: { headers: http.IncomingHttpHeaders }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function countPseudo(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.startsWith(':')) n++;
  return n;
}

function headerBytes(raw: readonly string[]): number {
  let n = 0;
  for (const part of raw) n += part.length;
  return n;
}

function countHost(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') n++;
  return n;
}

export interface GatewayApp {
  app: FastifyInstance;
  table: RouteTable<RouteEntry>;
  /** Active plugin names per route id, in run order. */
  chains: ReadonlyMap<string, readonly string[]>;
}

async function dropIngressHeader(request: FastifyRequest): Promise<void> {
  delete request.headers[INGRESS_HEADER];
}

export async function buildApp({ snapshot, services, logger, tracer, redis }: AppOptions): Promise<GatewayApp> {
  const { settings } = snapshot;
  const table = snapshot.table;
  const app = Fastify({
    loggerInstance: logger,
    // The real server is owned by server.ts; Fastify only routes.
    serverFactory: (handler) => http.createServer(handler),
    // Fastify takes a hop count too, though its types do not say so.
    trustProxy: settings.server.trustProxy as boolean | string | string[],
    bodyLimit: settings.server.bodyLimit,
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Fastify's own per-request lines are off: the gateway writes one access-log line instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    exposeHeadRoutes: false,
    return503OnClosing: false,
    routerOptions: { ...ROUTER_OPTIONS, constraints: table.constraints.strategies as never },
    rewriteUrl(req) {
      const outcome = refuse(req);
      if (typeof outcome === 'string') return outcome;
      (req as MarkedRequest)[BAD_TARGET] = outcome;
      return '/';
    },
  });

  app.decorateRequest('gatehouse', null);
  // Bodies are not parsed: they stream to the upstream as they arrive.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  const globalLimit = bodyLimitHooks(settings.server.bodyLimit);
  const observe = observabilityHooks(settings, tracer);
  const observer = createUpstreamObserver(tracer);
  const backendCall = resilientBackendCall(observer);

  // Callback style (no promise per request): this runs first on every request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (request.headers.connection !== undefined) dropConnectionNamed(request.headers);
    const bad = (request.raw as MarkedRequest)[BAD_TARGET];
    if (bad !== undefined) {
      reply.header('connection', 'close');
      sendProblem(request, reply, bad.code, bad.reason);
      return; // answered: the lifecycle stops here
    }
    done();
  });
  if (observe.onRequest) app.addHook('onRequest', observe.onRequest);
  if (observe.onSend) app.addHook('onSend', observe.onSend);
  app.addHook('onResponse', observe.onResponse);

  app.setNotFoundHandler((request, reply) => {
    const allowed = table.allowed(request.url, request.headers);
    if (allowed.length > 0) {
      const list = methodsWithHead(allowed);
      return sendProblem(request, reply, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${list.join(', ')}`, { headers: { allow: list.join(', ') } });
    }
    return sendProblem(request, reply, 'ROUTE_NOT_FOUND', `no route matches ${request.method} ${request.url.split('?')[0]}`);
  });

  app.setErrorHandler((caught, request, reply) => {
    const error = caught instanceof Error ? caught : new Error(String(caught));
    if (error instanceof GatewayError) return sendProblem(request, reply, error.code, error.message, { headers: error.headers });
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 413) return sendProblem(request, reply, 'PAYLOAD_TOO_LARGE', error.message);
    if (status === 415) return sendProblem(request, reply, 'UNSUPPORTED_MEDIA_TYPE', error.message);
    if (status === 408) return sendProblem(request, reply, 'REQUEST_TIMEOUT', error.message);
    if (status >= 400 && status < 500) return sendProblem(request, reply, 'BAD_REQUEST', error.message);
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, 'INTERNAL_ERROR', 'the gateway failed to handle this request');
  });

  const serviceNames = [...snapshot.services.keys()];
  const chains = new Map<string, readonly string[]>();
  const explicitHead = new Set(snapshot.routes.filter((r) => r.methods.includes('HEAD')).map((r) => r.match.path));
  const explicitMethods = (path: string) => new Set(snapshot.routes.filter((r) => r.match.path === path).flatMap((r) => r.methods));
  const pluginMethods = new Set<string>();
  const pause = yielder(); // a reload of many routes builds under traffic
  for (const route of snapshot.routes) {
    await pause();
    const info: PluginRouteInfo = { id: route.id, path: route.match.path, methods: route.methods, service: route.upstream?.service ?? route.grpcCall?.service };
    const ownLimit = route.routePlugins.some((p) => p.name === 'request-size');
    const { hooks, active, answersMethods } = await buildChain([...snapshot.globalPlugins, ...route.routePlugins], info, logger, serviceNames, redis);
    if (!ownLimit) {
      (hooks.onRequest ??= []).unshift(globalLimit.onRequest);
      (hooks.preParsing ??= []).unshift(globalLimit.preParsing);
    }
    // gRPC ingress: the secret header that let the gateway's own gRPC server in goes no further.
    if (route.ingress) (hooks.onRequest ??= []).unshift(dropIngressHeader);
    chains.set(route.id, active);
    const methods = explicitHead.has(route.match.path) ? [...route.methods] : methodsWithHead(route.methods);
    // Methods a plugin answers itself (cors preflight: OPTIONS), unless another route on this path lists them.
    const constraints = table.constraints.forRoute(route.match) ?? {};
    const taken = answersMethods.length > 0 ? explicitMethods(route.match.path) : undefined;
    for (const m of answersMethods) {
      const slot = `${m} ${route.match.path} ${JSON.stringify(constraints)}`;
      if (methods.includes(m) || taken!.has(m) || pluginMethods.has(slot)) continue;
      pluginMethods.add(slot);
      methods.push(m);
    }
    const untrustedClients = settings.server.trustProxy === false;
    const handler = route.grpcCall
      ? createGrpcHandler(route.grpcCall, services.get(route.grpcCall.service)!)
      : route.aggregatePlan
        ? createAggregateHandler(route, route.aggregatePlan, new Map(route.aggregatePlan.services.map((n) => [n, services.get(n)!])), { untrustedClients, call: backendCall })
        : proxyOrWebSocket(route, services.get(route.upstream!.service)!, { untrustedClients, observer }, settings.logging.accessLog);
    app.route({
      method: methods,
      url: route.match.path,
      constraints,
      config: { routeId: route.id },
      handler,
      ...(hooks as Record<string, never>),
    });
  }
  await app.ready();
  return { app, table, chains };
}

/** The proxy handler, behind the WebSocket handler when the route upgrades (`upstream.websocket`). */
function proxyOrWebSocket(route: RouteEntry, service: UpstreamService, options: ProxyOptions, accessLog: boolean) {
  const plain = createProxyHandler(route, service, options);
  return route.upstream!.websocket ? createWebSocketHandler(route, service, { ...options, plain, accessLog }) : plain;
}

export { ERRORS };
