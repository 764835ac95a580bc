/**
 * A retry budget (as Finagle's RetryBudget and Envoy's retry_budget): over a sliding window,
 * retries may add at most `percent` of the first tries, plus `minPerSecond` per second of the
 * window so that light traffic can still retry. A service that fails every request is then hit
 * by at most (1 + percent/100) times its traffic, not (1 + attempts) times.
 */
import { Value } from '@sinclair/typebox/value';
import { RetryBudgetSchema } from '../config/schema.js';

export interface RetryBudgetConfig {
  readonly percent: number;
  readonly minPerSecond: number;
  /** Milliseconds. */
  readonly window: number;
}

const BUCKETS = 10;

/** The schema's defaults (20%, 3/s, 10s), for services without a `retry` block. */
export const DEFAULT_RETRY_BUDGET: RetryBudgetConfig = Value.Decode(RetryBudgetSchema, Value.Default(RetryBudgetSchema, {}));

export class RetryBudget {
  private readonly bucketMs: number;
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  private readonly floor: number;
  private readonly share: number;
  private epoch = 0;

  constructor(config: RetryBudgetConfig = DEFAULT_RETRY_BUDGET, private readonly now: () => number = Date.now) {
    this.bucketMs = Math.max(1, Math.floor(config.window / BUCKETS));
    this.floor = (config.minPerSecond * config.window) / 1000;
    this.share = config.percent / 100;
    this.epoch = Math.floor(now() / this.bucketMs);
  }

  /** Moves the window to now, emptying buckets that fell out of it; returns the current bucket. */
  private bucket(): number {
    const epoch = Math.floor(this.now() / this.bucketMs);
    const stale = Math.min(BUCKETS, epoch - this.epoch);
    for (let i = 1; i <= stale; i++) {
      const b = (this.epoch + i) % BUCKETS;
      this.requests[b] = 0;
      this.retries[b] = 0;
    }
    if (epoch > this.epoch) this.epoch = epoch;
    return this.epoch % BUCKETS;
  }

  /** Counts a first try. */
  recordRequest(): void {
    this.requests[this.bucket()]!++;
  }

  /** Takes one retry from the budget; false (and nothing taken) when it is spent. */
  tryWithdraw(): boolean {
    const b = this.bucket();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      requests += this.requests[i]!;
      retries += this.retries[i]!;
    }
    if (retries + 1 > requests * this.share + this.floor) return false;
    this.retries[b]!++;
    return true;
  }
}
