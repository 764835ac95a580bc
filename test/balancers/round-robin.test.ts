import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roundRobin } from '../../src/balancers/round-robin.js';
import { fakes, tally } from './fake-targets.js';

test('round-robin: cycles through the targets in order, ignoring weights', () => {
  const ts = fakes(3);
  ts[0]!.weight = 5;
  const b = roundRobin<(typeof ts)[number]>();
  const picks = Array.from({ length: 9 }, () => b.pick(ts, {})!);
  assert.deepEqual(
    picks.map((p) => ts.indexOf(p)),
    [0, 1, 2, 0, 1, 2, 0, 1, 2],
  );
});

test('round-robin: skips excluded targets, and uses them when nothing else is left', () => {
  const ts = fakes(3);
  const b = roundRobin<(typeof ts)[number]>();
  const counts = tally(Array.from({ length: 100 }, () => b.pick(ts, { exclude: new Set([ts[1]!]) })));
  assert.equal(counts.get(ts[1]!.url), undefined);
  assert.equal(counts.get(ts[0]!.url), 50);
  assert.equal(b.pick([ts[1]!], { exclude: new Set([ts[1]!]) }), ts[1]);
  assert.equal(b.pick([], {}), undefined);
});
