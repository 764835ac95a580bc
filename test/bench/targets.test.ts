import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargets, peerOverheads, targetLines } from '../../bench/lib/targets.js';
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
