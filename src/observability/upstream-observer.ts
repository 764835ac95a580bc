/** What happens around every upstream call: a metric, and (with tracing on) a client span whose context goes upstream. */
import type { CallerRequest } from '../request-state.js';
import { upstreamDuration, upstreamRequests } from './metrics.js';
import type { CounterSeries, HistogramSeries } from './tally.js';
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

/** The upstream series of one service target, kept once found. */
class TargetSeries {
  readonly duration: HistogramSeries;
  private readonly outcomes = new Map<UpstreamOutcome, CounterSeries>();
  constructor(
    private readonly service: string,
    private readonly target: string,
  ) {
    this.duration = upstreamDuration.series(service, target);
  }
  outcome(outcome: UpstreamOutcome): CounterSeries {
    let s = this.outcomes.get(outcome);
    if (s === undefined) this.outcomes.set(outcome, (s = upstreamRequests.series(this.service, this.target, outcome)));
    return s;
  }
}

export function createUpstreamObserver(tracer: RequestTracer | undefined): UpstreamObserver {
  const byService = new Map<string, Map<string, TargetSeries>>();
  const seriesOf = (service: string, target: string): TargetSeries => {
    let targets = byService.get(service);
    if (targets === undefined) byService.set(service, (targets = new Map()));
    let s = targets.get(target);
    if (s === undefined) targets.set(target, (s = new TargetSeries(service, target)));
    return s;
  };
  return {
    start(request, service, target, headers) {
      const began = performance.now();
      const span = tracer?.startUpstream(request, service, target, headers);
      return {
        end(outcome, status) {
          const s = seriesOf(service, target);
          s.outcome(outcome).inc();
          s.duration.observe((performance.now() - began) / 1000);
          span?.end(outcome, status);
        },
      };
    },
  };
}
