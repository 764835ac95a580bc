/**
 * Per-target circuit breakers on opossum. A breaker judges each try by its response head:
 * the failure kinds listed in `failOn` count (connect-error, timeout, reset, 5xx or given
 * statuses); 4xx, client disconnects and the client's own errors never do. While a breaker is
 * open its target is not picked; after `resetTimeout` one probe goes through (half-open) and
 * its outcome closes or re-opens the breaker.
 */
import CircuitBreaker from 'opossum';
import type { CircuitBreakerConfig } from '../config/schema.js';
import { UpstreamError, type CallResult, type TargetCall, type UpstreamAnswer } from './call.js';
import type { UpstreamTarget } from './target.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Carries a response whose status counts as a failure through opossum, which only counts rejections. */
class CountedStatus extends Error {
  constructor(readonly result: CallResult) {
    super(`status ${result.response.statusCode}`);
  }
}

type Try = () => Promise<CallResult>;

export class TargetBreaker {
  private readonly circuit: CircuitBreaker<[Try], CallResult>;
  private readonly kinds: ReadonlySet<string>;
  private readonly statuses: (status: number) => boolean;
  private readonly resetTimeout: number;
  private openedAt = 0;

  constructor(config: CircuitBreakerConfig, name: string) {
    this.kinds = new Set<string>(config.failOn.filter((f) => typeof f === 'string'));
    const codes = new Set<number>(config.failOn.filter((f) => typeof f === 'number'));
    const all5xx = this.kinds.has('5xx');
    this.statuses = (s) => (all5xx && s >= 500 && s <= 599) || codes.has(s);
    this.resetTimeout = config.resetTimeout;
    this.circuit = new CircuitBreaker((attempt: Try) => attempt(), {
      name,
      // Timeouts are undici's (service/route timeout, or circuitBreaker.timeout when shorter): they abort the try.
      timeout: false,
      errorThresholdPercentage: config.errorThresholdPercentage,
      volumeThreshold: config.volumeThreshold,
      resetTimeout: config.resetTimeout,
      rollingCountTimeout: config.rollingWindow,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      errorFilter: (err: unknown) => !this.counts(err),
    });
    this.circuit.on('open', () => {
      this.openedAt = Date.now();
    });
  }

  private counts(err: unknown): boolean {
    if (err instanceof CountedStatus) return true;
    if (err instanceof UpstreamError) return this.kinds.has(err.kind);
    return true;
  }

  get state(): BreakerState {
    if (this.circuit.closed) return 'closed';
    return this.circuit.halfOpen ? 'half-open' : 'open';
  }

  /** True while calls are refused: open, or half-open with its one probe in flight. */
  refusing(): boolean {
    return !this.circuit.closed && !this.circuit.pendingClose && !this.circuit.isShutdown;
  }

  /** Milliseconds until the next probe may go through (0 when half-open). */
  msUntilProbe(now = Date.now()): number {
    if (!this.circuit.opened) return 0;
    return Math.max(0, this.openedAt + this.resetTimeout - now);
  }

  /** Calls, failures and rejections in the rolling window (admin, metrics). */
  stats(): { fires: number; failures: number; rejects: number } {
    const s = this.circuit.stats;
    return { fires: s.fires, failures: s.failures, rejects: s.rejects };
  }

  run(attempt: Try, target: string): Promise<CallResult> {
    if (this.circuit.isShutdown) return attempt(); // the target was removed while this request was on its way
    const probe = this.circuit.halfOpen;
    // Promise chains rather than async functions: each try passes here, and every await is a promise more.
    return this.circuit.fire(() => attempt().then(this.judge)).catch((err: unknown) => {
      if (err instanceof CountedStatus) return err.result;
      if ((err as { code?: string }).code === 'EOPENBREAKER') {
        const wait = Math.max(1, Math.ceil(this.msUntilProbe() / 1000));
        throw new UpstreamError('circuit-open', 'CIRCUIT_OPEN', `the circuit of ${target} is open`, { target, headers: { 'retry-after': String(wait) } });
      }
      // A probe the client abandoned says nothing about the target: wait for the next one.
      if (probe && err instanceof UpstreamError && err.kind === 'client-gone' && this.circuit.closed) this.circuit.open();
      throw err;
    });
  }

  /** A response whose status counts as a failure goes through opossum as a rejection. */
  private readonly judge = (result: CallResult): CallResult => {
    if (this.statuses(result.response.statusCode)) throw new CountedStatus(result);
    return result;
  };

  shutdown(): void {
    this.circuit.shutdown();
  }
}

/** Runs each try through its target's breaker (targets of services without one are called directly). */
export function withBreaker<A extends UpstreamAnswer>(call: TargetCall<A>): TargetCall<A> {
  return (target, input) => (target.breaker ? (target.breaker.run(() => call(target, input), target.url) as Promise<CallResult<A>>) : call(target, input));
}

/**
 * When targets exist but none can be picked and some breaker is open: the seconds until the
 * earliest probe, for Retry-After. Undefined when no breaker is the reason.
 */
export function circuitRetryAfter(targets: readonly UpstreamTarget[], now = Date.now()): number | undefined {
  let earliest: number | undefined;
  for (const t of targets) {
    if (!t.breakerOpen()) continue;
    const ms = t.breaker!.msUntilProbe(now);
    earliest = earliest === undefined ? ms : Math.min(earliest, ms);
  }
  return earliest === undefined ? undefined : Math.max(1, Math.ceil(earliest / 1000));
}
