/**
 * Passive health (outlier detection): `failures` consecutive failed exchanges with a target
 * (connect error, timeout, 5xx; never a 4xx) eject it for `ejectFor`; then it is offered to
 * the balancer again with a clean count. Failures seen while it is ejected do not extend it.
 */
import type { OutcomeListener, UpstreamTarget } from './target.js';

export interface PassiveHealthConfig {
  readonly failures: number;
  /** Milliseconds. */
  readonly ejectFor: number;
}

export function passiveHealth(
  config: PassiveHealthConfig,
  onEject: (target: UpstreamTarget, untilMs: number) => void,
  clock: () => number = Date.now,
): OutcomeListener {
  const streak = new WeakMap<UpstreamTarget, number>();
  return (target, ok) => {
    if (ok) {
      streak.delete(target);
      return;
    }
    const now = clock();
    if (target.ejectedUntil > now) return;
    const n = (streak.get(target) ?? 0) + 1;
    if (n < config.failures) {
      streak.set(target, n);
      return;
    }
    streak.delete(target);
    target.ejectedUntil = now + config.ejectFor;
    onEject(target, target.ejectedUntil);
  };
}
