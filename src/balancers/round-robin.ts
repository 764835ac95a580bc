/** Plain round robin over the available targets (weights are ignored: see weighted-round-robin). */
import { candidates, type Balancer, type BalancerTarget } from './balancer.js';

export function roundRobin<T extends BalancerTarget>(): Balancer<T> {
  let next = 0;
  return {
    pick(available, ctx) {
      const list = candidates(available, ctx.exclude);
      const n = list.length;
      if (n === 0) return undefined;
      const t = list[next % n]!;
      next = (next + 1) % n;
      return t;
    },
  };
}
