/**
 * When no HTTP route has plugin hooks (every one is a plain proxy, aggregate, gRPC or WebSocket
 * target with the gateway-wide body limit only), Fastify is not given one route per config route:
 * one catch-all Fastify route serves them all, and each request's route is looked up once in the
 * config's RouteTable (the same find-my-way paths, methods and constraints as Fastify's own
 * router would hold) before Fastify runs. With 10,000 routes that leaves out Fastify's copy of
 * the router and a route context per route (~70 MB of a generation).
 *
 * What users see stays the same: a request no route takes goes to the not-found handler (405
 * with Allow, or 404) as Fastify's own no-match would, the body limit applies only to requests
 * a route takes, and logs, metrics and traces name the route that served (routeIdOf).
 * With any route that has hooks, every route keeps its own Fastify route: Fastify's router then
 * decides between them (a route with hooks may be more specific than a plain one, or the reverse).
 */
import type http from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { BodyLimitHooks } from './body-limit.js';
import type { RouteEntry } from './config/snapshot.js';
import type { CallerRequest } from './request-state.js';
import type { Lookup, RouteTable } from './routing/route-table.js';

const ROUTED = Symbol('gatehouse.routed');
type RoutedMessage = { [ROUTED]?: Lookup<RouteEntry> | null };

/** Looks up the route of a request whose head was accepted (from Fastify's rewriteUrl). */
export function routeRequest(table: RouteTable<RouteEntry>, req: http.IncomingMessage, url: string): void {
  (req as RoutedMessage)[ROUTED] = table.findPath(req.method ?? '', url, req.headers) ?? null;
}

/** The id of the route serving the request: the looked-up one, else the Fastify route's config. */
export function routeIdOf(request: CallerRequest): string | undefined {
  const raw = (request as { readonly raw?: RoutedMessage }).raw;
  return raw?.[ROUTED]?.route.id ?? request.routeOptions.config.routeId;
}

function routedOf(request: FastifyRequest): Lookup<RouteEntry> | null | undefined {
  return (request.raw as RoutedMessage)[ROUTED];
}

/** The catch-all route's handler: the looked-up route's own handler, or the not-found handler. */
export function dispatchHandler(handlers: ReadonlyMap<string, RouteHandlerMethod>): RouteHandlerMethod {
  return function dispatch(request, reply) {
    const found = routedOf(request);
    const handler = found ? handlers.get(found.route.id) : undefined;
    if (!found || !handler) return reply.callNotFound();
    request.params = found.params;
    return handler.call(this, request, reply);
  };
}

/** The gateway-wide body limit, for requests a route takes (the not-found handler has none). */
export function routedBodyLimit(limit: BodyLimitHooks): BodyLimitHooks {
  return {
    onRequest(request: FastifyRequest, reply: FastifyReply, done: (err?: Error | null) => void) {
      if (routedOf(request)) limit.onRequest(request, reply, done);
      else done();
    },
    preParsing(request: FastifyRequest, reply: FastifyReply, payload: Readable, done: (err: Error | null, payload?: Readable) => void) {
      if (routedOf(request)) limit.preParsing(request, reply, payload, done);
      else done(null, payload);
    },
  };
}
