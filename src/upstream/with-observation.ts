/**
 * The observation step of an upstream call, around each single try: the target's latency and
 * passive health (target.observe), metrics and the trace span (UpstreamObserver), and the
 * upstream time for Server-Timing.
 */
import { stateOf } from '../request-state.js';
import { outcomeOfStatus, type UpstreamObserver, type UpstreamOutcome } from '../observability/upstream-observer.js';
import { UpstreamError, type TargetCall, type UpstreamAnswer } from './call.js';

/** The metrics outcome of a failed try. */
export function outcomeOfFailure(err: unknown): UpstreamOutcome {
  if (!(err instanceof UpstreamError)) return 'reset';
  switch (err.kind) {
    case 'connect-error':
      return 'connect_error';
    case 'timeout':
      return 'timeout';
    case 'client-gone':
      return 'aborted';
    case 'request':
      return 'aborted';
    default:
      return err.code === 'BAD_GATEWAY' && /status/.test(err.message) ? 'bad_response' : 'reset';
  }
}

export function withObservation<A extends UpstreamAnswer>(service: string, observer: UpstreamObserver, call: TargetCall<A>): TargetCall<A> {
  // A then-chain, not an async function: one promise less per try on the hot path.
  return (target, input) => {
    const began = performance.now();
    const span = observer.start(input.request, service, target.url, input.headers as Record<string, string | string[]>);
    return call(target, input).then(
      (result) => {
        const ms = performance.now() - began;
        const status = result.response.statusCode;
        target.observe(ms, status < 500);
        stateOf(input.request).upstreamMs = ms;
        span.end(outcomeOfStatus(status), status);
        return result;
      },
      (err: unknown) => {
        const ms = performance.now() - began;
        const e = err instanceof UpstreamError ? err : undefined;
        // Not the target's fault: the client's own request, the client leaving, or a pooled
        // connection the upstream had closed on the first try (retried on a fresh one).
        const blameless = e?.kind === 'request' || e?.kind === 'client-gone' || (e?.dropped === true && input.tried.size <= 1);
        if (!blameless) target.observe(ms, false);
        span.end(outcomeOfFailure(err));
        throw err;
      },
    );
  };
}
