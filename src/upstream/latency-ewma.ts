/**
 * A peak-sensitive latency EWMA, as Finagle and Linkerd keep per endpoint: a sample above the
 * estimate replaces it at once, a lower one pulls it down with a weight set by the elapsed
 * time (decay time `tau`), and while nothing is observed the estimate decays towards zero so
 * that a target that looked slow is tried again. Times are performance.now() milliseconds.
 */
import { performance } from 'node:perf_hooks';

export const DEFAULT_TAU_MS = 10_000;

export class LatencyEwma {
  private value: number | undefined;
  private at = 0;
  private readonly tau: number;

  constructor(tauMs = DEFAULT_TAU_MS) {
    this.tau = tauMs;
  }

  /** Records one response time. A failure never lowers the estimate (a fast refusal is not a fast target). */
  record(ms: number, ok = true, now = performance.now()): void {
    const sample = Math.max(0, ms);
    if (this.value === undefined || sample >= this.value) this.value = sample;
    else if (ok) {
      const w = Math.exp(-Math.max(0, now - this.at) / this.tau);
      this.value = this.value * w + sample * (1 - w);
    }
    this.at = now;
  }

  /** The estimate at `now`, decayed for the time since the last sample; undefined before the first. */
  estimate(now = performance.now()): number | undefined {
    return this.value === undefined ? undefined : this.value * Math.exp(-Math.max(0, now - this.at) / this.tau);
  }

  /** The estimate as of the last sample (for display), or undefined before any. */
  get last(): number | undefined {
    return this.value;
  }
}
