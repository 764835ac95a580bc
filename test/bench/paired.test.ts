/** Paired mode's arithmetic and flags (bench/lib/paired.ts, bench/lib/args.ts); nothing here measures anything. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchArgs } from '../../bench/lib/args.js';
import { pairedTable, summarizePairs } from '../../bench/lib/paired.js';

test('each pair gives B/A of req/s and of CPU per request; the summary is their median and range', () => {
  const p = summarizePairs('plain', 'full', 3, [
    { a: { rps: 10_000, cpuUsPerRequest: 50 }, b: { rps: 6_000, cpuUsPerRequest: 90 } },
    { a: { rps: 8_000, cpuUsPerRequest: 60 }, b: { rps: 4_000, cpuUsPerRequest: 120 } },
    { a: { rps: 12_000, cpuUsPerRequest: 40 }, b: { rps: 8_400, cpuUsPerRequest: 56 } },
  ]);
  assert.deepEqual(p.rpsRatio, { median: 0.6, min: 0.5, max: 0.7 });
  assert.deepEqual(p.cpuRatio, { median: 1.8, min: 1.4, max: 2 });
  const text = pairedTable(p);
  assert.match(text, /plain +full/);
  assert.match(text, /0\.600 \(0\.500–0\.700\)/);
  assert.match(text, /1\.800 \(1\.400–2\.000\)/);
});

test('--paired takes two rows, or one with --against; short runs by default', () => {
  const two = parseBenchArgs(['--paired', 'gatehouse plain, gatehouse full chain']);
  assert.deepEqual(two.paired, ['gatehouse plain', 'gatehouse full chain']);
  assert.equal(two.seconds, 3);
  assert.equal(two.rounds, 8);
  const ab = parseBenchArgs(['--paired', 'gatehouse plain', '--against', '/tmp/old-dist', '--rounds', '12']);
  assert.deepEqual(ab.paired, ['gatehouse plain', 'gatehouse plain']);
  assert.equal(ab.against, '/tmp/old-dist');
  assert.equal(ab.rounds, 12);
  assert.throws(() => parseBenchArgs(['--paired', 'gatehouse plain']), /two row names/);
  assert.throws(() => parseBenchArgs(['--paired', 'a,a']), /needs --against/);
  assert.throws(() => parseBenchArgs(['--against', '/tmp/x']), /goes with --paired/);
  assert.equal(parseBenchArgs([]).paired, undefined);
});
