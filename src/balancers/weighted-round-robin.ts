/**
 * Smooth weighted round robin, as nginx does it: every pick adds each target's weight to its
 * running score, takes the highest, and takes the total off the winner. Weights 5,1,1 give
 * a a b a c a a, never five of `a` in a row.
 */
import { candidates, type Balancer, type BalancerTarget } from './balancer.js';

export function weightedRoundRobin<T extends BalancerTarget>(): Balancer<T> {
  // Scores live beside the targets so a list change keeps them for targets that stay.
  const score = new WeakMap<T, number>();
  return {
    pick(available, ctx) {
      const list = candidates(available, ctx.exclude);
      let best: T | undefined;
      let bestScore = -Infinity;
      let total = 0;
      for (const t of list) {
        const s = (score.get(t) ?? 0) + t.weight;
        score.set(t, s);
        total += t.weight;
        if (s > bestScore) {
          best = t;
          bestScore = s;
        }
      }
      if (best !== undefined) score.set(best, bestScore - total);
      return best;
    },
  };
}
