/** What a rate-limit store answers for one request: counted and allowed, or refused. */
import type { Algorithm } from './schema.js';

export interface Verdict {
  readonly allowed: boolean;
  /** Requests left in the window after this one. */
  readonly remaining: number;
  /** Milliseconds until a refused request could pass again (fixed window: until the window ends). */
  readonly resetMs: number;
}

export interface LimitPolicy {
  readonly limit: number;
  readonly windowMs: number;
  readonly algorithm: Algorithm;
}

export interface LimitStore {
  /** Counts one request for `key` (unless refused) and says whether it may pass. */
  hit(key: string): Promise<Verdict>;
}

/** A clock in epoch milliseconds; tests pass their own. */
export type Clock = () => number;
