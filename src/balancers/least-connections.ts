/**
 * Weighted least connections: the target with the fewest in-flight requests per unit of
 * weight. Ties rotate, so idle targets share the load instead of the first taking it all.
 */
import { candidates, type Balancer, type BalancerTarget } from './balancer.js';

export function leastConnections<T extends BalancerTarget>(): Balancer<T> {
  let rotate = 0;
  return {
    pick(available, ctx) {
      const list = candidates(available, ctx.exclude);
      const n = list.length;
      if (n === 0) return undefined;
      const start = rotate++ % n;
      let best = list[start]!;
      for (let i = 1; i < n; i++) {
        const t = list[(start + i) % n]!;
        // inflight/weight compared without dividing.
        if (t.inflight * best.weight < best.inflight * t.weight) best = t;
      }
      return best;
    },
  };
}
