/** The gateway-wide hooks for metrics, the access log, tracing and Server-Timing, built once per app from settings. */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Settings } from '../config/schema.js';
import { accessLogWriter, servedRequest } from './access-log.js';
import { methodIndex, methodLabel, rateLimited, requestDuration, requestsTotal } from './metrics.js';
import type { CounterSeries } from './tally.js';
import type { RequestTracer } from './tracing.js';
import { routeIdOf } from '../table-dispatch.js';

export interface ObservabilityHooks {
  onRequest?: (request: FastifyRequest) => Promise<void>;
  onSend?: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
  /** Callback style: no promise per request. */
  onResponse: (request: FastifyRequest, reply: FastifyReply, done: () => void) => void;
}

type RouteCounter = (method: string, status: number, seconds: number) => void;
const counters = new Map<string, RouteCounter>();

/** The request metrics of one answered request (Fastify's onResponse): the route's counter, found by id. */
export function countRequest(route: string, method: string, status: number, seconds: number): void {
  let count = counters.get(route);
  if (count === undefined) counters.set(route, (count = routeRequestCounter(route)));
  count(method, status, seconds);
}

/** The request metrics of one route, its series kept once found (the fast lane holds one per route). */
export function routeRequestCounter(route: string): RouteCounter {
  const duration = requestDuration.series(route);
  // Made at the route's first request: a config of 10,000 routes mostly never served costs no map each.
  let counts: Map<number, CounterSeries> | undefined;
  return (method, status, seconds) => {
    const key = status * 8 + methodIndex(method);
    let series = (counts ??= new Map()).get(key);
    if (series === undefined) counts.set(key, (series = requestsTotal.series(route, methodLabel(method), status)));
    series.inc();
    duration.observe(seconds);
    if (status === 429) rateLimited.inc({ route });
  };
}

/** The query parameter names the access log redacts. */
export function redactedNames(settings: Settings): ReadonlySet<string> {
  return new Set(settings.logging.redactQuery.map((q) => q.toLowerCase()));
}

export function observabilityHooks(settings: Settings, tracer: RequestTracer | undefined, logger: FastifyBaseLogger): ObservabilityHooks {
  const writeAccessLog = settings.logging.accessLog ? accessLogWriter(logger, redactedNames(settings)) : undefined;
  return {
    onRequest: tracer ? async (request) => tracer.onRequest(request) : undefined,
    onSend: settings.server.timing
      ? async (request, reply, payload) => {
          const total = reply.elapsedTime;
          const up = request.gatehouse?.upstreamMs;
          const entries = up === undefined ? [`gateway;dur=${total.toFixed(2)}`] : [`gateway;dur=${(total - up).toFixed(2)}`, `upstream;dur=${up.toFixed(2)}`];
          const prior = reply.getHeader('server-timing');
          reply.header('server-timing', prior ? `${String(prior)}, ${entries.join(', ')}` : entries.join(', '));
          return payload;
        }
      : undefined,
    onResponse(request, reply, done) {
      countRequest(routeIdOf(request) ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
      tracer?.onResponse(request, reply);
      if (writeAccessLog) writeAccessLog(servedRequest(request, reply), request.id, () => request.log);
      done();
    },
  };
}
