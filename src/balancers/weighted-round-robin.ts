/**
 * Smooth weighted round robin, as nginx does it: every pick adds each target's weight to its
 * running score, takes the highest, and takes the total off the winner. Weights 5,1,1 give
 * a a b a c a a, never five of `a` in a row.
 */
import { candidates, type Balancer, type BalancerTarget } from './balancer.js';

export function weightedRoundRobin<T extends BalancerTarget>(): Balancer<T> {
  // Scores of targets not in the current list, so a target keeps its score across list changes.
  const saved = new Map<T, number>();
  // Scores of the list picked from last, by position: the service hands the same array while
  // nothing changes, so the hot path is one pass over a typed array.
  let list: readonly T[] = [];
  let scores = new Float64Array(0);

  function switchTo(next: readonly T[]): void {
    list.forEach((t, i) => saved.set(t, scores[i]!));
    scores = new Float64Array(next.length);
    next.forEach((t, i) => (scores[i] = saved.get(t) ?? 0));
    list = next;
  }

  return {
    pick(available, ctx) {
      const from = candidates(available, ctx.exclude);
      if (from !== list) switchTo(from);
      let best = -1;
      let bestScore = -Infinity;
      let total = 0;
      for (let i = 0; i < list.length; i++) {
        const w = list[i]!.weight;
        const s = (scores[i] = scores[i]! + w);
        total += w;
        if (s > bestScore) {
          best = i;
          bestScore = s;
        }
      }
      if (best === -1) return undefined;
      scores[best] = bestScore - total;
      return list[best];
    },
    update(targets) {
      // Forget targets that left.
      const keep = new Set(targets);
      for (const t of saved.keys()) if (!keep.has(t)) saved.delete(t);
    },
  };
}
