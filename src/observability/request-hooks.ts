/** The gateway-wide hooks for metrics, the access log, tracing and Server-Timing, built once per app from settings. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Settings } from '../config/schema.js';
import { accessLogLine } from './access-log.js';
import { methodLabel, rateLimited, requestDuration, requestsTotal } from './metrics.js';
import type { RequestTracer } from './tracing.js';

export interface ObservabilityHooks {
  onRequest?: (request: FastifyRequest) => Promise<void>;
  onSend?: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
  /** Callback style: no promise per request. */
  onResponse: (request: FastifyRequest, reply: FastifyReply, done: () => void) => void;
}

export function observabilityHooks(settings: Settings, tracer: RequestTracer | undefined): ObservabilityHooks {
  const accessLog = settings.logging.accessLog;
  const redact = new Set(settings.logging.redactQuery.map((q) => q.toLowerCase()));
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
      const route = request.routeOptions.config.routeId ?? 'unmatched';
      const status = reply.statusCode;
      requestsTotal.inc({ route, method: methodLabel(request.method), status });
      requestDuration.observe({ route }, reply.elapsedTime / 1000);
      if (status === 429) rateLimited.inc({ route });
      tracer?.onResponse(request, reply);
      if (accessLog) request.log.info(accessLogLine(request, reply, redact), 'request');
      done();
    },
  };
}
