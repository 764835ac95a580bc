import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { p2cEwma } from '../../src/balancers/p2c-ewma.js';
import { startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';
import { fake, seeded, tally, type FakeTarget } from './fake-targets.js';

test('p2c-ewma: equal targets share the load evenly (each within 10% of a third)', () => {
  const ts = [fake('a'), fake('b'), fake('c')];
  const b = p2cEwma<FakeTarget>(seeded(1));
  const counts = tally(Array.from({ length: 6000 }, () => b.pick(ts, {})));
  for (const n of counts.values()) assert.ok(Math.abs(n - 2000) <= 200, `${n} of 6000`);
});

test('p2c-ewma: a target with a high latency EWMA is never the cheaper of two', () => {
  const ts = [fake('fast', 1, 2), fake('slow', 1, 200), fake('fast2', 1, 2)];
  const b = p2cEwma<FakeTarget>(seeded(2));
  const counts = tally(Array.from({ length: 3000 }, () => b.pick(ts, {})));
  assert.equal(counts.get('slow'), undefined);
  assert.ok(counts.get('fast')! > 1000 && counts.get('fast2')! > 1000);
});

test('p2c-ewma: in-flight requests add to the cost, so a busy fast target loses to an idle slower one', () => {
  const fast = fake('fast', 1, 2);
  const slow = fake('slow', 1, 20);
  const b = p2cEwma<FakeTarget>(seeded(3));
  fast.inflight = 10; // 2 x 11 = 22 > 20 x 1
  for (let i = 0; i < 20; i++) assert.equal(b.pick([fast, slow], {}), slow);
  fast.inflight = 5; // 12 < 20
  for (let i = 0; i < 20; i++) assert.equal(b.pick([fast, slow], {}), fast);
});

test('p2c-ewma: weight divides the cost', () => {
  const heavy = fake('heavy', 4, 40);
  const light = fake('light', 1, 20);
  const b = p2cEwma<FakeTarget>(seeded(4));
  // 40 / 4 = 10 < 20 / 1
  for (let i = 0; i < 20; i++) assert.equal(b.pick([heavy, light], {}), heavy);
});

test('p2c-ewma: never picks an excluded target while another is available', () => {
  const ts = [fake('a', 1, 1), fake('b', 1, 100)];
  const b = p2cEwma<FakeTarget>(seeded(5));
  for (let i = 0; i < 20; i++) assert.equal(b.pick(ts, { exclude: new Set([ts[0]!]) }), ts[1]);
  assert.equal(b.pick([], {}), undefined);
});

test('p2c-ewma through the gateway: load shifts away from a slow target', async (t) => {
  const fastA = await startOrigin();
  const fastB = await startOrigin();
  let slowMs = 400;
  const slow = await startOrigin((_req, res) => {
    setTimeout(() => res.end('slow'), slowMs);
  });
  t.after(() => {
    slowMs = 0;
    return Promise.all([fastA.close(), fastB.close(), slow.close()]);
  });
  const gw = await startGateway({
    'routes.d/a.yaml': `services:
  svc:
    loadBalancer: p2c-ewma
    discovery: { static: ["${fastA.url}", "${slow.url}", "${fastB.url}"] }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc } }
`,
  });
  t.after(() => gw.close());
  // 4 clients share 90 requests: an even split would send 30 to the slow target.
  let left = 90;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (left-- > 0) {
        const res = await request(`${gw.url}/x`);
        await res.body.dump();
        assert.equal(res.statusCode, 200);
      }
    }),
  );
  assert.equal(fastA.seen.length + fastB.seen.length + slow.seen.length, 90);
  assert.ok(slow.seen.length <= 10, `slow target got ${slow.seen.length} of 90`);
  // The proxy recorded latencies: the slow target's EWMA is the highest.
  const d = gw.gateway.serviceSet.get('svc')!.describe();
  const ewma = new Map(d.targets.map((x) => [x.url, x.latencyEwmaMs]));
  assert.ok(ewma.get(slow.url)! > ewma.get(fastA.url)! && ewma.get(slow.url)! > ewma.get(fastB.url)!, JSON.stringify(d.targets));
});

test('p2c-ewma: a target with no response yet is tried while idle, and avoided while its first request is out', () => {
  const known = fake('known', 1, 1);
  const fresh: FakeTarget = { ...fake('fresh'), latencyEstimate: () => undefined };
  const b = p2cEwma<FakeTarget>(seeded(6));
  assert.equal(b.pick([known, fresh], {}), fresh);
  fresh.inflight = 1;
  known.inflight = 50;
  for (let i = 0; i < 20; i++) assert.equal(b.pick([known, fresh], {}), known);
});
