/**
 * Micro-benchmark: the cost of one pick for each balancer, on plain target objects.
 * Run with `node --import tsx bench/balancers.ts [picks]`. Not part of npm test.
 */
import { performance } from 'node:perf_hooks';
import type { Balancer, BalancerTarget, PickContext } from '../src/balancers/balancer.js';
import { consistentHash } from '../src/balancers/consistent-hash.js';
import { leastConnections } from '../src/balancers/least-connections.js';
import { p2cEwma } from '../src/balancers/p2c-ewma.js';
import { random } from '../src/balancers/random.js';
import { roundRobin } from '../src/balancers/round-robin.js';
import { weightedRoundRobin } from '../src/balancers/weighted-round-robin.js';

interface BenchTarget extends BalancerTarget {
  inflight: number;
  latency: number;
}

function targets(n: number): BenchTarget[] {
  return Array.from({ length: n }, (_, i) => ({
    url: `http://10.0.${i >> 8}.${i & 255}:8080`,
    weight: 1 + (i % 4),
    inflight: i % 7,
    latency: 1 + (i % 13),
    latencyEstimate(this: BenchTarget) {
      return this.latency;
    },
  }));
}

const BALANCERS: Record<string, () => Balancer<BenchTarget>> = {
  'round-robin': () => roundRobin(),
  'weighted-round-robin': () => weightedRoundRobin(),
  'least-connections': () => leastConnections(),
  'consistent-hash': () => consistentHash(),
  'p2c-ewma': () => p2cEwma(),
  random: () => random(),
};

const KEYS = Array.from({ length: 4096 }, (_, i) => `user-${i * 7919}`);

function run(balancer: Balancer<BenchTarget>, list: BenchTarget[], picks: number): number {
  balancer.update?.(list);
  const ctx: PickContext<BenchTarget>[] = KEYS.map((key) => ({ key }));
  let sink = 0;
  const warm = Math.min(picks, 50_000);
  for (let i = 0; i < warm; i++) sink += balancer.pick(list, ctx[i & 4095]!)!.weight;
  const start = performance.now();
  for (let i = 0; i < picks; i++) sink += balancer.pick(list, ctx[i & 4095]!)!.weight;
  const ns = ((performance.now() - start) * 1e6) / picks;
  if (sink < 0) console.log(sink);
  return ns;
}

const picks = Number(process.argv[2] ?? 1_000_000);
const sizes = [3, 10, 100];
const rows: Record<string, Record<string, string>> = {};
for (const [name, make] of Object.entries(BALANCERS)) {
  rows[name] = {};
  for (const n of sizes) rows[name]![`${n} targets`] = `${run(make(), targets(n), picks).toFixed(1)} ns`;
}
console.log(`ns per pick, ${picks.toLocaleString('en')} picks each (node ${process.version})`);
console.table(rows);
