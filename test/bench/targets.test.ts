import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchArgs } from '../../bench/lib/args.js';
import { checkTargets, peerOverheads, RATIO_TARGETS, targetLines } from '../../bench/lib/targets.js';
import type { LatencyResult, LatencyRow } from '../../bench/lib/latency.js';

const row = (name: string, overP99ms: number | null): LatencyRow => ({
  name,
  requests: 1000,
  failed: 0,
  p50ms: 0.3,
  p99ms: 1 + (overP99ms ?? 0),
  p999ms: 3,
  overP50ms: 0,
  overP99ms,
  overP999ms: 0,
});

const latency = (rows: LatencyRow[]): LatencyResult => ({ rate: 2000, peakPlainRps: 8000, seconds: 8, rounds: 2, rows });

test('the p99 target line shows the peers’ overhead from the same run', () => {
  const res = latency([row('direct', 0), row('nginx', 5.38), row('undici ref', 7.53), row('gatehouse plain', 5.32)]);
  assert.equal(peerOverheads(res), 'nginx +5.38 ms, undici ref +7.53 ms');
  const p99 = checkTargets(undefined, res, undefined).find((c) => c.target.startsWith('p99'))!;
  assert.equal(p99.value, 5.32);
  assert.equal(p99.met, false);
  assert.equal(targetLines([p99]), 'MISSED  p99 overhead over direct ≤ 1 ms (fixed rate, ms): 5.32 (same run: nginx +5.38 ms, undici ref +7.53 ms)');
});

test('without peer rows the p99 line is the figure alone', () => {
  const res = latency([row('direct', 0), row('gatehouse plain', 0.8)]);
  assert.equal(peerOverheads(res), undefined);
  const p99 = checkTargets(undefined, res, undefined).find((c) => c.target.startsWith('p99'))!;
  assert.equal(targetLines([p99]), 'MET     p99 overhead over direct ≤ 1 ms (fixed rate, ms): 0.8');
});

test('a ratio target measured again in pairs shows the pairs’ median and range beside the table’s ratio', () => {
  const rows = [
    { name: 'gatehouse plain', rps: { median: 16600 } },
    { name: 'gatehouse full chain', rps: { median: 9767 } },
  ] as unknown as Parameters<typeof checkTargets>[0];
  const paired = new Map([['full chain ≥ 0.6× plain', { median: 0.572, min: 0.472, max: 0.672 }]]);
  const full = checkTargets(rows, undefined, undefined, undefined, paired).find((c) => c.target === 'full chain ≥ 0.6× plain')!;
  assert.equal(full.value, 0.59);
  assert.deepEqual(full.paired, { median: 0.572, min: 0.472, max: 0.672 });
  assert.equal(targetLines([full]), 'MISSED  full chain ≥ 0.6× plain: 0.59 (in pairs: 0.572, 0.472–0.672)');
  // Every ratio target is one of RATIO_TARGETS: the pairs run exactly those.
  const ratioChecks = checkTargets(rows, undefined, undefined).filter((c) => c.target.includes('×'));
  assert.deepEqual(ratioChecks.map((c) => c.target), RATIO_TARGETS.map((t) => t.target));
});

test('--target-pairs: 6 by default, none in smoke mode, a whole number', () => {
  assert.equal(parseBenchArgs([]).targetPairs, 6);
  assert.equal(parseBenchArgs(['--smoke']).targetPairs, 0);
  assert.equal(parseBenchArgs(['--target-pairs', '0']).targetPairs, 0);
  assert.throws(() => parseBenchArgs(['--target-pairs=-1']), /whole number/);
  assert.throws(() => parseBenchArgs(['--target-pairs', '2.5']), /whole number/);
});
