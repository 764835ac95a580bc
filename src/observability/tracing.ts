/**
 * W3C trace context and OTLP/HTTP export through the OpenTelemetry SDK. With
 * `tracing.enabled: false` none of this is built and the `traceparent` a client sends passes
 * through untouched; with it on, each request gets a server span (child of the client's
 * `traceparent`) and each upstream call a client span whose id goes upstream as the new parent.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallerRequest } from '../request-state.js';
import type { Settings } from '../config/schema.js';

type Headers = Record<string, string | string[] | undefined>;

const getter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};
const setter: TextMapSetter<Record<string, string | string[]>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const SPAN = Symbol('gatehouse.span');
type WithSpan = FastifyRequest & { [SPAN]?: Span };

export interface UpstreamSpan {
  end(outcome: string, status?: number): void;
}

export interface RequestTracer {
  onRequest(request: FastifyRequest): void;
  onResponse(request: FastifyRequest, reply: FastifyReply): void;
  startUpstream(request: CallerRequest, service: string, target: string, headers: Record<string, string | string[]>): UpstreamSpan;
  /** The context upstream calls made for this request should carry (aggregate, gRPC). */
  contextOf(request: CallerRequest): Context;
  shutdown(): Promise<void>;
}

export function createTracer(config: Settings['tracing']): RequestTracer | undefined {
  if (!config.enabled) return undefined;
  const processors: SpanProcessor[] = [];
  if (config.otlp) {
    processors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url: config.otlp.endpoint, headers: config.otlp.headers }), {
        scheduledDelayMillis: config.otlp.flushInterval,
      }),
    );
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer('gatehouse');
  const propagator = new W3CTraceContextPropagator();

  const contextOf = (request: CallerRequest): Context => {
    const span = (request as WithSpan)[SPAN];
    return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
  };

  return {
    onRequest(request) {
      const parent = propagator.extract(ROOT_CONTEXT, request.headers, getter);
      const route = request.routeOptions.config.routeId ?? 'unmatched';
      (request as WithSpan)[SPAN] = tracer.startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': request.method, 'url.path': request.url.split('?')[0], 'gatehouse.route': route, 'http.request.id': request.id },
        },
        parent,
      );
    },
    onResponse(request, reply) {
      const span = (request as WithSpan)[SPAN];
      if (!span) return;
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
    startUpstream(request, service, target, headers) {
      const span = tracer.startSpan(
        `upstream ${service}`,
        { kind: SpanKind.CLIENT, attributes: { 'gatehouse.service': service, 'server.address': target, 'gatehouse.route': request.routeOptions.config.routeId ?? '' } },
        contextOf(request),
      );
      delete headers.traceparent;
      delete headers.tracestate;
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter);
      return {
        end(outcome, status) {
          span.setAttribute('gatehouse.outcome', outcome);
          if (status !== undefined) span.setAttribute('http.response.status_code', status);
          if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
          span.end();
        },
      };
    },
    contextOf,
    shutdown: () => provider.shutdown(),
  };
}
