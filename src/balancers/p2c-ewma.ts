/**
 * Power of two choices on a latency EWMA (as Finagle and Linkerd do): take two different
 * targets at random and keep the cheaper, where cost = latency EWMA x (in-flight + 1) / weight.
 * A slow target's EWMA rises at once (peak-sensitive), so it quickly gets less traffic; the
 * estimate decays while a target is not chosen, so a recovered target is tried again.
 * A target with no response yet costs nothing while idle (so a new target is tried at once)
 * and a penalty while its first request is out (so it never takes a burst before it is known),
 * as Finagle's PeakEwma does.
 */
import { performance } from 'node:perf_hooks';
import { candidates, type Balancer, type BalancerTarget } from './balancer.js';

/** Cost of a target with a request out and no latency known yet: above any real one. */
const UNKNOWN_PENALTY = 1e9;

function cost(t: BalancerTarget, now: number): number {
  const latency = t.latencyEstimate(now);
  if (latency === undefined) return t.inflight === 0 ? 0 : UNKNOWN_PENALTY + t.inflight;
  return (latency * (t.inflight + 1)) / t.weight;
}

export function p2cEwma<T extends BalancerTarget>(rand: () => number = Math.random, clock: () => number = () => performance.now()): Balancer<T> {
  return {
    pick(available, ctx) {
      const list = candidates(available, ctx.exclude);
      const n = list.length;
      if (n <= 1) return list[0];
      const i = Math.floor(rand() * n);
      let j = Math.floor(rand() * (n - 1));
      if (j >= i) j++;
      const a = list[i]!;
      const b = list[j]!;
      const now = clock();
      return cost(b, now) < cost(a, now) ? b : a;
    },
  };
}
