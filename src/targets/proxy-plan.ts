/**
 * What a proxy route does with each request, built once per route: the upstream path, the
 * headers both ways, the retry policy, and the upstream call composed of its steps. The Fastify
 * handler (proxy.ts) and the fast lane (fast-lane/) both proxy through it.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RouteEntry } from '../config/snapshot.js';
import type { UpstreamObserver } from '../observability/upstream-observer.js';
import { buildPathBuilder, type PathBuilder } from '../routing/upstream-path.js';
import { poolCall, type ReadableAnswer, type TargetCall, type UpstreamAnswer, type UpstreamCall } from '../upstream/call.js';
import type { ForwardOptions } from '../upstream/forward-headers.js';
import { rawResponseHeaderFilter, responseHeaderFilter, type RawHeaders } from '../upstream/hop-by-hop.js';
import { retryPolicy, withRetry, type RetryPolicy } from '../upstream/retry.js';
import type { UpstreamService } from '../upstream/service.js';
import { poolStream, type StreamedAnswer } from '../upstream/streamed-answer.js';
import { withBalancer } from '../upstream/with-balancer.js';
import { observedTry } from '../upstream/target-try.js';
import { upstreamErrorMatcher } from './upstream-error-page.js';

export interface ProxyOptions {
  /** server.trustProxy === false: client-sent Forwarded headers are dropped. */
  readonly untrustedClients: boolean;
  /** Metrics and trace spans around each upstream try. */
  readonly observer: UpstreamObserver;
  /**
   * Nothing rewrites this route's responses (no onSend hook): answers are written straight into
   * the client's response as they arrive, instead of through a stream Fastify sends.
   */
  readonly direct: boolean;
  /**
   * The upstream call chains of one app, shared by its routes to the same service with the same
   * timeouts (the chain holds nothing of a route): one per service, not one per route.
   */
  readonly calls?: Map<string, UpstreamCall<StreamedAnswer | ReadableAnswer>>;
}

export interface ProxyPlan {
  readonly buildPath: PathBuilder;
  readonly filterResponse: (headers: Record<string, string | string[] | undefined>) => Record<string, string | string[]>;
  /** The same filter over a StreamedAnswer's raw headers. */
  readonly filterRawResponse: (raw: RawHeaders) => Record<string, string | string[]>;
  /** Upstream statuses answered with the gateway's own problem (upstream.replaceUpstreamErrors). */
  readonly replaceError: ((status: number) => boolean) | undefined;
  readonly policy: RetryPolicy;
  readonly forwarding: ForwardOptions;
  /** Direct routes get StreamedAnswers, the others ReadableAnswers. */
  readonly call: UpstreamCall<StreamedAnswer | ReadableAnswer>;
}

export function proxyPlan(route: RouteEntry, service: UpstreamService, options: ProxyOptions): ProxyPlan {
  const upstream = route.upstream!;
  const timeout = upstream.timeout ?? service.config.timeout;
  const breakerTimeout = service.config.circuitBreaker?.timeout ?? timeout;
  const policy = retryPolicy(service.config.retry);
  const timeouts = { headers: Math.min(timeout, breakerTimeout), body: timeout };
  // The upstream call, innermost first (docs/resilience.md): one try through the target's pool,
  // observed (latency, passive health, metrics, trace span), judged by that target's breaker, on a target the balancer picks, retried as the policy allows.
  function compose<A extends UpstreamAnswer>(innermost: TargetCall<A>): UpstreamCall<A> {
    const attempt = observedTry(service, options.observer, innermost);
    return withRetry(policy, service.retryBudget, withBalancer(service, attempt));
  }
  return {
    buildPath: buildPathBuilder(route.match.path, upstream),
    filterResponse: responseHeaderFilter(upstream.keepHeaders, upstream.hideHeaders),
    filterRawResponse: rawResponseHeaderFilter(upstream.keepHeaders, upstream.hideHeaders),
    replaceError: upstreamErrorMatcher(upstream.replaceUpstreamErrors),
    policy,
    forwarding: { untrustedClients: options.untrustedClients, preserveHost: upstream.preserveHost },
    call: sharedCall(options, `${service.name}\0${options.direct}\0${timeouts.headers}\0${timeouts.body}`, () =>
      options.direct ? compose(poolStream(service.name, timeouts)) : compose(poolCall(service.name, timeouts)),
    ),
  };
}

function sharedCall(options: ProxyOptions, key: string, make: () => UpstreamCall<StreamedAnswer | ReadableAnswer>): UpstreamCall<StreamedAnswer | ReadableAnswer> {
  if (!options.calls) return make();
  let call = options.calls.get(key);
  if (call === undefined) options.calls.set(key, (call = make()));
  return call;
}

/**
 * The response head of a direct answer: the upstream's headers (already filtered; the object
 * is reused) over those plugins set earlier, and x-request-id.
 */
export function directHead(
  upstream: Record<string, string | string[]>,
  pluginSet: Readonly<Record<string, string | number | string[] | undefined>> | undefined,
  requestId: string,
): OutgoingHttpHeaders {
  const head: Record<string, string | number | string[]> = upstream;
  if (pluginSet) {
    for (const name in pluginSet) {
      const value = pluginSet[name];
      if (head[name] === undefined && value !== undefined) head[name] = value;
    }
  }
  head['x-request-id'] = requestId;
  return head as OutgoingHttpHeaders;
}
