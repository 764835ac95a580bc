/**
 * W3C trace context and OTLP/HTTP export through the OpenTelemetry SDK. With
 * `tracing.enabled: false` none of this is built and the `traceparent` a client sends passes
 * through untouched; with it on, each request gets a server span (child of the client's
 * `traceparent`) and each upstream call a client span whose id goes upstream as the new parent.
 */
import type { Context, Span, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { lazyModule } from '../lazy-module.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallerRequest } from '../request-state.js';
import type { Settings } from '../config/schema.js';
import { routeIdOf } from '../table-dispatch.js';

// Loaded only when tracing is enabled.
const otelApi = lazyModule<typeof import('@opentelemetry/api')>('@opentelemetry/api');
const otelCore = lazyModule<typeof import('@opentelemetry/core')>('@opentelemetry/core');
const otlpHttp = lazyModule<typeof import('@opentelemetry/exporter-trace-otlp-http')>('@opentelemetry/exporter-trace-otlp-http');
const otelResources = lazyModule<typeof import('@opentelemetry/resources')>('@opentelemetry/resources');
const otelSdk = lazyModule<typeof import('@opentelemetry/sdk-trace-base')>('@opentelemetry/sdk-trace-base');

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
  const { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = otelApi();
  const { W3CTraceContextPropagator } = otelCore();
  const { OTLPTraceExporter } = otlpHttp();
  const { resourceFromAttributes } = otelResources();
  const { BasicTracerProvider, BatchSpanProcessor } = otelSdk();
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
      const route = routeIdOf(request) ?? 'unmatched';
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
        { kind: SpanKind.CLIENT, attributes: { 'gatehouse.service': service, 'server.address': target, 'gatehouse.route': routeIdOf(request) ?? '' } },
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
