/** UpstreamTarget-like objects for unit tests of balancers (and a seeded random source). */
import type { BalancerTarget } from '../../src/balancers/balancer.js';

export interface FakeTarget extends BalancerTarget {
  weight: number;
  inflight: number;
  /** What latencyEstimate() answers. */
  latency: number;
}

export function fake(url: string, weight = 1, latency = 10): FakeTarget {
  return {
    url,
    weight,
    inflight: 0,
    latency,
    latencyEstimate() {
      return this.latency;
    },
  };
}

export function fakes(n: number, weight = 1): FakeTarget[] {
  return Array.from({ length: n }, (_, i) => fake(`http://10.0.0.${i + 1}:8080`, weight));
}

/** mulberry32: a small seeded PRNG so distribution tests are deterministic. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many of `picks` went to each target, by url. */
export function tally<T extends { url: string }>(picks: readonly (T | undefined)[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of picks) if (p) m.set(p.url, (m.get(p.url) ?? 0) + 1);
  return m;
}
