/** The proxy target: forwards the request to a target the service's balancer picks, streaming both ways. */
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Dispatcher } from 'undici';
import type { RouteEntry } from '../config/snapshot.js';
import { sendProblem } from '../errors.js';
import { stateOf } from '../request-state.js';
import { buildPathBuilder } from '../routing/upstream-path.js';
import { withBreaker } from '../upstream/breaker.js';
import { discard, poolCall, UpstreamError, type TargetCall, type UpstreamCall } from '../upstream/call.js';
import { responseHeaderFilter } from '../upstream/hop-by-hop.js';
import { upstreamRequestHeaders } from '../upstream/forward-headers.js';
import { retryPolicy, withRetry } from '../upstream/retry.js';
import type { UpstreamService } from '../upstream/service.js';
import { withBalancer } from '../upstream/with-balancer.js';
import { ClientGone } from '../upstream/client-gone.js';
import { withObservation } from '../upstream/with-observation.js';
import type { UpstreamObserver } from '../observability/upstream-observer.js';
import { createFallback } from './fallback.js';
import { sendUpstreamErrorProblem, upstreamErrorMatcher } from './upstream-error-page.js';
import { outgoingBody, type OutgoingBody } from './outgoing-body.js';

export interface ProxyOptions {
  /** server.trustProxy === false: client-sent Forwarded headers are dropped. */
  readonly untrustedClients: boolean;
  /** Metrics and trace spans around each upstream try. */
  readonly observer: UpstreamObserver;
}

export function createProxyHandler(route: RouteEntry, service: UpstreamService, options: ProxyOptions): RouteHandlerMethod {
  const upstream = route.upstream!;
  const buildPath = buildPathBuilder(route.match.path, upstream);
  const filterResponse = responseHeaderFilter(upstream.keepHeaders, upstream.hideHeaders);
  const replaceError = upstreamErrorMatcher(upstream.replaceUpstreamErrors);
  const timeout = upstream.timeout ?? service.config.timeout;
  const breakerTimeout = service.config.circuitBreaker?.timeout ?? timeout;
  const preserveHost = upstream.preserveHost;
  const policy = retryPolicy(service.config.retry);
  const fallback = createFallback(route.fallback);

  // The upstream call, innermost first (docs/resilience.md): one try through the target's pool,
  // observed (latency, passive health, metrics, trace span), judged by that target's breaker, on a target the balancer picks, retried as the policy allows.
  let attempt: TargetCall = poolCall(service.name, { headers: Math.min(timeout, breakerTimeout), body: timeout });
  attempt = withObservation(service.name, options.observer, attempt);
  if (service.config.circuitBreaker) attempt = withBreaker(attempt); // no layer at all without a breaker
  let call: UpstreamCall = withBalancer(service, attempt);
  call = withRetry(policy, service.retryBudget, call);

  const forwarding = { untrustedClients: options.untrustedClients, preserveHost };
  function headersFor(request: FastifyRequest, out: OutgoingBody): Record<string, string | string[]> {
    const headers = upstreamRequestHeaders(request, forwarding);
    const cl = request.headers['content-length'];
    if (out.length !== undefined) headers['content-length'] = String(out.length);
    else if (cl !== undefined && out.body !== undefined) headers['content-length'] = cl;
    return headers;
  }

  async function fail(request: FastifyRequest, reply: FastifyReply, failure: UpstreamError): Promise<FastifyReply> {
    if (failure.target !== undefined) stateOf(request).target = failure.target;
    if (fallback?.handles(failure)) {
      const answered = await fallback.answer(request, reply);
      if (answered) return answered;
    }
    request.log.warn({ err: { kind: failure.kind, code: (failure.cause as { code?: string } | undefined)?.code, message: failure.message }, target: failure.target }, 'upstream request failed');
    return sendProblem(request, reply, failure.code, failure.message, { headers: failure.headers });
  }

  return async function proxy(request, reply) {
    const url = request.url;
    const q = url.indexOf('?');
    const path = buildPath(q === -1 ? url : url.slice(0, q), q === -1 ? '' : url.slice(q + 1), request.params as Record<string, string>);
    const gone = new ClientGone();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });

    let out: OutgoingBody;
    try {
      out = await outgoingBody(request, policy.maxBodySize);
    } catch (err) {
      if (gone.aborted || request.raw.destroyed) return reply;
      throw err;
    }
    let result;
    try {
      result = await call({
        request,
        method: request.method as Dispatcher.HttpMethod,
        path,
        headers: headersFor(request, out),
        body: out.body,
        replayable: out.replayable,
        signal: gone,
        tried: new Set(),
      });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      if (err.kind === 'client-gone') return reply;
      return fail(request, reply, err);
    }
    const res = result.response;
    stateOf(request).target = result.target.url;
    if (replaceError?.(res.statusCode)) {
      discard(result); // up to 64 KiB read and dropped so the pooled connection stays usable
      return sendUpstreamErrorProblem(request, reply, res.statusCode, filterResponse(res.headers));
    }
    reply.code(res.statusCode);
    reply.headers(filterResponse(res.headers));
    reply.header('x-request-id', request.id);
    return reply.send(res.body);
  };
}
