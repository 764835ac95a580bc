/** Plain round robin over the available targets. */
import type { Balancer } from './balancer.js';

export function roundRobin(): Balancer {
  let next = 0;
  return {
    pick(available, ctx) {
      const n = available.length;
      if (n === 0) return undefined;
      for (let i = 0; i < n; i++) {
        const t = available[(next + i) % n]!;
        if (!ctx.exclude?.has(t)) {
          next = (next + i + 1) % n;
          return t;
        }
      }
      next = (next + 1) % n;
      return available[next % n];
    },
  };
}
