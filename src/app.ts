/** buildApp(snapshot): one Fastify route per config route, its plugin chain as route hooks, its target as handler. */
import http from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type RouteHandlerMethod } from 'fastify';
import type { Snapshot, RouteEntry } from './config/snapshot.js';
import { bodyLimitHooks } from './body-limit.js';
import { ERRORS, GatewayError, sendProblem } from './errors.js';
import { buildChain, type HookLists } from './plugins/chain.js';
import type { PluginRouteInfo } from './plugins/define.js';
import type { SharedRedis } from './redis/shared-redis.js';
import { checkRequestHead, requestIdOf, type Refusal } from './request-head.js';
import { methodsWithHead, ROUTER_OPTIONS, type RouteTable } from './routing/route-table.js';
import { yielder } from './yield-to-loop.js';
import { dispatchHandler, routedBodyLimit, routeRequest } from './table-dispatch.js';
import { HTTP_METHODS } from './config/schema.js';
import { createAggregateHandler } from './targets/aggregate/index.js';
import { resilientBackendCall } from './targets/aggregate/resilient-call.js';
import { createGrpcHandler } from './targets/grpc/index.js';
import { INGRESS_HEADER } from './targets/grpc/ingress-route.js';
import { createProxyHandler, type HeaderHook } from './targets/proxy.js';
import { isHeadersOnly } from './plugins/define.js';
import { proxyPlan, type ProxyOptions, type ProxyPlan } from './targets/proxy-plan.js';
import { lazyChildLoggerFactory } from './lazy-child-logger.js';
import { FastLane, laneClosedBy, laneTakes } from './fast-lane/fast-lane.js';
import { createWebSocketHandler } from './targets/websocket/index.js';
import { dropConnectionNamed } from './upstream/hop-by-hop.js';
import type { ServiceSet } from './upstream/services.js';
import type { UpstreamService } from './upstream/service.js';
import './request-state.js';
import { observabilityHooks, redactedNames } from './observability/request-hooks.js';
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

const BAD_TARGET = Symbol('gatehouse.badTarget');
type MarkedRequest = http.IncomingMessage & { [BAD_TARGET]?: Refusal };

export interface GatewayApp {
  app: FastifyInstance;
  table: RouteTable<RouteEntry>;
  /** Active plugin names per route id, in run order. */
  chains: ReadonlyMap<string, readonly string[]>;
  /** Serves the requests that need nothing of Fastify (absent when no route is on it). */
  fastLane?: FastLane;
}

async function dropIngressHeader(request: FastifyRequest): Promise<void> {
  delete request.headers[INGRESS_HEADER];
}

export async function buildApp({ snapshot, services, logger, tracer, redis }: AppOptions): Promise<GatewayApp> {
  const { settings } = snapshot;
  const table = snapshot.table;
  /** Set when one catch-all route serves every route (table-dispatch.ts). */
  let dispatchTable: RouteTable<RouteEntry> | undefined;
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
    // Each request's child logger is made only when something logs through it.
    childLoggerFactory: lazyChildLoggerFactory,
    exposeHeadRoutes: false,
    return503OnClosing: false,
    routerOptions: { ...ROUTER_OPTIONS, constraints: table.constraints.strategies as never },
    rewriteUrl(req) {
      const outcome = checkRequestHead(req);
      if ('url' in outcome) {
        if (dispatchTable) routeRequest(dispatchTable, req, outcome.url);
        return outcome.url;
      }
      (req as MarkedRequest)[BAD_TARGET] = outcome;
      return '/';
    },
  });

  app.decorateRequest('gatehouse', null);
  // Bodies are not parsed: they stream to the upstream as they arrive.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  const globalLimit = bodyLimitHooks(settings.server.bodyLimit);
  const observe = observabilityHooks(settings, tracer, logger);
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

  // Plain proxy routes are also served without Fastify, for the requests that need nothing of it (fast-lane/).
  const fastLane = laneClosedBy(settings, tracer !== undefined) === undefined ? new FastLane(table, { logger, accessLog: settings.logging.accessLog, redact: redactedNames(settings) }) : undefined;
  const serviceNames = [...snapshot.services.keys()];
  const chains = new Map<string, readonly string[]>();
  const explicitHead = new Set(snapshot.routes.filter((r) => r.methods.includes('HEAD')).map((r) => r.match.path));
  const explicitMethods = (path: string) => new Set(snapshot.routes.filter((r) => r.match.path === path).flatMap((r) => r.methods));
  const pluginMethods = new Set<string>();
  const calls: NonNullable<ProxyOptions['calls']> = new Map();
  const pause = yielder(); // a reload of many routes builds under traffic
  const built: { route: RouteEntry; methods: string[]; constraints: Record<string, unknown>; handler: RouteHandlerMethod; hooks: HookLists; plain: boolean }[] = [];
  for (const route of snapshot.routes) {
    await pause();
    const info: PluginRouteInfo = { id: route.id, path: route.match.path, methods: route.methods, service: route.upstream?.service ?? route.grpcCall?.service };
    const ownLimit = route.routePlugins.some((p) => p.name === 'request-size');
    const { hooks, active, answersMethods } = await buildChain([...snapshot.globalPlugins, ...route.routePlugins], info, logger, serviceNames, redis);
    // Only the gateway-wide body limit: the route can be served by the catch-all (table-dispatch.ts).
    const plain = active.length === 0 && answersMethods.length === 0 && !ownLimit && !route.ingress && Object.keys(hooks).length === 0;
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
    let handler: RouteHandlerMethod;
    if (route.grpcCall) handler = createGrpcHandler(route.grpcCall, services.get(route.grpcCall.service)!, observer);
    else if (route.aggregatePlan) {
      handler = createAggregateHandler(route, route.aggregatePlan, new Map(route.aggregatePlan.services.map((n) => [n, services.get(n)!])), { untrustedClients, call: backendCall });
    } else {
      const service = services.get(route.upstream!.service)!;
      const sendHooks = (hooks.onSend ?? []) as HeaderHook[];
      const direct = !observe.onSend && sendHooks.every(isHeadersOnly);
      const options: ProxyOptions = { untrustedClients, observer, direct, calls };
      const plan = proxyPlan(route, service, options);
      handler = proxyOrWebSocket(route, service, options, plan, direct ? sendHooks : [], settings.logging.accessLog);
      if (fastLane && laneTakes(route, active.length, plan)) fastLane.add(route.id, plan);
    }
    built.push({ route, methods, constraints, handler, hooks, plain });
  }
  if (built.length > 0 && built.every((b) => b.plain)) {
    // No route has hooks of its own: one Fastify route serves them all through the table.
    dispatchTable = table;
    const limit = routedBodyLimit(globalLimit);
    const limitHooks: HookLists = { onRequest: [limit.onRequest], preParsing: [limit.preParsing] };
    app.route({
      method: [...HTTP_METHODS],
      url: '/*',
      handler: dispatchHandler(new Map(built.map((b) => [b.route.id, b.handler]))),
      ...(limitHooks as Record<string, never>),
    });
  } else {
    for (const { route, methods, constraints, handler, hooks } of built) {
      await pause();
      app.route({
        method: methods,
        url: route.match.path,
        constraints,
        config: { routeId: route.id },
        handler,
        ...(hooks as Record<string, never>),
      });
    }
  }
  await app.ready();
  return { app, table, chains, fastLane: fastLane && fastLane.size > 0 ? fastLane : undefined };
}

/** The proxy handler, behind the WebSocket handler when the route upgrades (`upstream.websocket`). */
function proxyOrWebSocket(route: RouteEntry, service: UpstreamService, options: ProxyOptions, plan: ProxyPlan, headerHooks: readonly HeaderHook[], accessLog: boolean) {
  const plain = createProxyHandler(route, plan, headerHooks);
  return route.upstream!.websocket ? createWebSocketHandler(route, service, { ...options, plain, accessLog }) : plain;
}

export { ERRORS };
