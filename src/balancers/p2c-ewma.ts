/**
 * Power of two choices on a latency EWMA (as Finagle and Linkerd do): take two different
 * targets at random and keep the cheaper, where cost = latency EWMA x (in-flight + 1) / weight.
 * A slow target's EWMA rises at once (peak-sensitive), so it quickly gets less traffic; the
 * estimate decays while a target is not chosen, so a recovered target is tried again.
 */
import { performance } from 'node:perf_hooks';
import { candidates, type Balancer, type BalancerTarget } from './balancer.js';

function cost(t: BalancerTarget, now: number): number {
  return (t.latencyEstimate(now) * (t.inflight + 1)) / t.weight;
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
