import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { weightedRoundRobin } from '../../src/balancers/weighted-round-robin.js';
import { startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';
import { fake, tally, type FakeTarget } from './fake-targets.js';

function longestRun<T>(seq: readonly T[], of: T): number {
  let best = 0;
  let run = 0;
  for (const x of seq) {
    run = x === of ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

test('weighted-round-robin: weights 5,1,1 give exactly 5:1:1 per cycle', () => {
  const ts = [fake('a', 5), fake('b', 1), fake('c', 1)];
  const b = weightedRoundRobin<FakeTarget>();
  const counts = tally(Array.from({ length: 700 }, () => b.pick(ts, {})));
  assert.deepEqual(Object.fromEntries(counts), { a: 500, b: 100, c: 100 });
});

test('weighted-round-robin is smooth: weights 5,1,1 never send more than 4 in a row to the heavy target', () => {
  const ts = [fake('a', 5), fake('b', 1), fake('c', 1)];
  const b = weightedRoundRobin<FakeTarget>();
  const seq = Array.from({ length: 700 }, () => b.pick(ts, {})!.url);
  // nginx's sequence; a plain weighted round robin would send a a a a a b c.
  assert.deepEqual(seq.slice(0, 7), ['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  assert.ok(longestRun(seq, 'a') <= 4, `longest run of the heavy target: ${longestRun(seq, 'a')}`);
  assert.equal(longestRun(seq, 'b'), 1);
  assert.equal(longestRun(seq, 'c'), 1);
});

test('weighted-round-robin: weights 10,1 interleave the light target instead of a burst of ten', () => {
  const ts = [fake('a', 10), fake('b', 1)];
  const b = weightedRoundRobin<FakeTarget>();
  const seq = Array.from({ length: 110 }, () => b.pick(ts, {})!.url);
  assert.equal(seq.filter((x) => x === 'b').length, 10);
  // Between two picks of b there are exactly ten of a, every cycle.
  const at = seq.flatMap((x, i) => (x === 'b' ? [i] : []));
  for (let i = 1; i < at.length; i++) assert.equal(at[i]! - at[i - 1]!, 11);
});

test('weighted-round-robin: an unavailable or excluded target is skipped and the rest keep their ratio', () => {
  const ts = [fake('a', 3), fake('b', 1), fake('c', 2)];
  const b = weightedRoundRobin<FakeTarget>();
  const counts = tally(Array.from({ length: 400 }, () => b.pick([ts[0]!, ts[1]!], {})));
  assert.deepEqual(Object.fromEntries(counts), { a: 300, b: 100 });
  const ex = tally(Array.from({ length: 500 }, () => b.pick(ts, { exclude: new Set([ts[0]!]) })));
  assert.equal(ex.get('a'), undefined);
  assert.equal(ex.get('b')! + ex.get('c')!, 500);
  assert.ok(Math.abs(ex.get('c')! - 2 * ex.get('b')!) <= 3, `b ${ex.get('b')} c ${ex.get('c')}`);
});

test('weighted-round-robin through the gateway: weights 3 and 1 get 30 and 10 of 40 requests', async (t) => {
  const heavy = await startOrigin();
  const light = await startOrigin();
  t.after(() => Promise.all([heavy.close(), light.close()]));
  const gw = await startGateway({
    'routes.d/a.yaml': `services:
  svc:
    loadBalancer: weighted-round-robin
    discovery: { static: [ { url: "${heavy.url}", weight: 3 }, { url: "${light.url}", weight: 1 } ] }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc } }
`,
  });
  t.after(() => gw.close());
  for (let i = 0; i < 40; i++) {
    const res = await request(`${gw.url}/x`);
    await res.body.dump();
    assert.equal(res.statusCode, 200);
  }
  assert.equal(heavy.seen.length, 30);
  assert.equal(light.seen.length, 10);
});
