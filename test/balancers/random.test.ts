import assert from 'node:assert/strict';
import { test } from 'node:test';
import { random } from '../../src/balancers/random.js';
import { fake, seeded, tally, type FakeTarget } from './fake-targets.js';

test('random: picks in proportion to weight (1:1:2 over 8000 picks, each within 10% of its share)', () => {
  const ts = [fake('a', 1), fake('b', 1), fake('c', 2)];
  const b = random<FakeTarget>(seeded(42));
  const counts = tally(Array.from({ length: 8000 }, () => b.pick(ts, {})));
  for (const [url, expected] of [['a', 2000], ['b', 2000], ['c', 4000]] as const) {
    const got = counts.get(url) ?? 0;
    assert.ok(Math.abs(got - expected) <= expected * 0.1, `${url}: ${got}, expected about ${expected}`);
  }
});

test('random: never picks an excluded target while another is available', () => {
  const ts = [fake('a'), fake('b')];
  const b = random<FakeTarget>(seeded(7));
  const counts = tally(Array.from({ length: 200 }, () => b.pick(ts, { exclude: new Set([ts[0]!]) })));
  assert.deepEqual(Object.fromEntries(counts), { b: 200 });
  assert.equal(b.pick([], {}), undefined);
});
