/** The pick step of an upstream call: the service's balancer chooses a target not tried yet (when it can). */
import { circuitRetryAfter } from './breaker.js';
import { UpstreamError, type TargetCall, type UpstreamAnswer, type UpstreamCall } from './call.js';
import type { UpstreamService } from './service.js';

/** 503 CIRCUIT_OPEN (with Retry-After) when open breakers left nothing to pick, else 503 UPSTREAM_UNAVAILABLE. */
export function nothingToPick(service: UpstreamService): UpstreamError {
  const wait = circuitRetryAfter(service.list());
  if (wait !== undefined) {
    return new UpstreamError('circuit-open', 'CIRCUIT_OPEN', `every target of service ${service.name} has an open circuit`, {
      headers: { 'retry-after': String(wait) },
    });
  }
  return new UpstreamError('no-target', 'UPSTREAM_UNAVAILABLE', `service ${service.name} has no available target`);
}

export function withBalancer<A extends UpstreamAnswer>(service: UpstreamService, call: TargetCall<A>): UpstreamCall<A> {
  return (input) => {
    const target = service.pick(input.request, input.tried.size > 0 ? input.tried : undefined);
    if (!target) return Promise.reject(nothingToPick(service));
    input.tried.add(target);
    return call(target, input);
  };
}
