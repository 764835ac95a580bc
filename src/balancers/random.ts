/** Weighted random: each target is chosen with probability weight / total weight. */
import { candidates, type Balancer, type BalancerTarget } from './balancer.js';

export function random<T extends BalancerTarget>(rand: () => number = Math.random): Balancer<T> {
  return {
    pick(available, ctx) {
      const list = candidates(available, ctx.exclude);
      if (list.length === 0) return undefined;
      let total = 0;
      for (const t of list) total += t.weight;
      let r = rand() * total;
      for (const t of list) {
        r -= t.weight;
        if (r < 0) return t;
      }
      return list[list.length - 1];
    },
  };
}
