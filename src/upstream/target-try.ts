/**
 * One try on one target, as every kind of upstream call takes it (proxy, aggregate backends,
 * REST->gRPC): observed (latency, passive health, metrics, span), then judged by the target's
 * circuit breaker when the service has one (no breaker layer at all without).
 */
import type { UpstreamObserver } from '../observability/upstream-observer.js';
import { withBreaker } from './breaker.js';
import type { TargetCall, UpstreamAnswer } from './call.js';
import type { UpstreamService } from './service.js';
import { withObservation } from './with-observation.js';

export function observedTry<A extends UpstreamAnswer>(service: UpstreamService, observer: UpstreamObserver, attempt: TargetCall<A>): TargetCall<A> {
  const observed = withObservation(service.name, observer, attempt);
  return service.config.circuitBreaker ? withBreaker(observed) : observed;
}
