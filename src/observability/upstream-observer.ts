/** What happens around every upstream call: a metric, and (with tracing on) a client span whose context goes upstream. */
import type { CallerRequest } from '../request-state.js';
import { upstreamDuration, upstreamRequests } from './metrics.js';
import type { RequestTracer } from './tracing.js';

export type UpstreamOutcome = 'ok' | 'http_5xx' | 'timeout' | 'connect_error' | 'reset' | 'bad_response' | 'aborted';

export interface UpstreamCall {
  /** Call once the upstream answered (with its status) or failed. */
  end(outcome: UpstreamOutcome, status?: number): void;
}

export interface UpstreamObserver {
  /** Before the call: may add trace headers to `headers`. */
  start(request: CallerRequest, service: string, target: string, headers: Record<string, string | string[]>): UpstreamCall;
}

export function outcomeOfStatus(status: number): UpstreamOutcome {
  return status >= 500 ? 'http_5xx' : 'ok';
}

export function outcomeOfCode(code: string): UpstreamOutcome {
  switch (code) {
    case 'UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'UPSTREAM_UNAVAILABLE':
      return 'connect_error';
    default:
      return 'reset';
  }
}

export function createUpstreamObserver(tracer: RequestTracer | undefined): UpstreamObserver {
  return {
    start(request, service, target, headers) {
      const began = performance.now();
      const span = tracer?.startUpstream(request, service, target, headers);
      return {
        end(outcome, status) {
          upstreamRequests.series(service, target, outcome).inc();
          upstreamDuration.series(service, target).observe((performance.now() - began) / 1000);
          span?.end(outcome, status);
        },
      };
    },
  };
}
