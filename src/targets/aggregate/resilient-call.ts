/**
 * The aggregate's backend call built from the same steps as the proxy's: one try through the
 * target's pool, observed (latency, passive health, metrics, span), judged by the target's
 * breaker, on a target the balancer picks, retried as the service's policy and budget allow.
 */
import type { TargetCall, UpstreamCall } from '../../upstream/call.js';
import { GatewayError } from '../../errors.js';
import { poolStream, type StreamedAnswer } from '../../upstream/streamed-answer.js';
import { retryPolicy, withRetry } from '../../upstream/retry.js';
import type { UpstreamService } from '../../upstream/service.js';
import { withBalancer } from '../../upstream/with-balancer.js';
import { observedTry } from '../../upstream/target-try.js';
import type { UpstreamObserver } from '../../observability/upstream-observer.js';
import { MAX_PART_BYTES, type BackendCall, type BackendResponse } from './call.js';
import type { Dispatcher } from 'undici';

/** A part's answer; its headers are parsed only when read (an error detail names the content type). */
class PartAnswer implements BackendResponse {
  constructor(
    readonly status: number,
    private readonly answer: StreamedAnswer,
    readonly body: Buffer,
    readonly target: string,
  ) {}

  get headers(): BackendResponse['headers'] {
    return this.answer.headers;
  }
}

export function resilientBackendCall(observer: UpstreamObserver): BackendCall {
  // One composed call per service and backend timeout, made on first use.
  const chains = new Map<UpstreamService, Map<number, UpstreamCall<StreamedAnswer>>>();
  const chainFor = (service: UpstreamService, timeout: number): UpstreamCall<StreamedAnswer> => {
    let byTimeout = chains.get(service);
    if (!byTimeout) chains.set(service, (byTimeout = new Map()));
    let call = byTimeout.get(timeout);
    if (!call) {
      const breakerTimeout = service.config.circuitBreaker?.timeout ?? timeout;
      let attempt: TargetCall<StreamedAnswer> = poolStream(service.name, { headers: Math.min(timeout, breakerTimeout), body: timeout });
      attempt = observedTry(service, observer, attempt);
      call = withRetry(retryPolicy(service.config.retry), service.retryBudget, withBalancer(service, attempt));
      byTimeout.set(timeout, call);
    }
    return call;
  };

  return async (service, request, req) => {
    const result = await chainFor(service, req.timeout)({
      request,
      method: req.method as Dispatcher.HttpMethod,
      path: req.path,
      headers: req.headers,
      body: req.body,
      replayable: true,
      signal: req.signal,
      tried: new Set(),
    });
    const res = result.response;
    const tooBig = () => new GatewayError('BAD_GATEWAY', `service ${service.name} answered more than ${MAX_PART_BYTES} bytes`);
    return new PartAnswer(res.statusCode, res, await res.collect(MAX_PART_BYTES, tooBig), result.target.url);
  };
}
