import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { leastConnections } from '../../src/balancers/least-connections.js';
import { startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';
import { fake, tally, type FakeTarget } from './fake-targets.js';

test('least-connections: picks the target with the fewest in-flight requests', () => {
  const ts = [fake('a'), fake('b'), fake('c')];
  ts[0]!.inflight = 4;
  ts[1]!.inflight = 1;
  ts[2]!.inflight = 2;
  const b = leastConnections<FakeTarget>();
  for (let i = 0; i < 10; i++) assert.equal(b.pick(ts, {})!.url, 'b');
});

test('least-connections is weighted: in-flight per unit of weight decides', () => {
  const ts = [fake('a', 3), fake('b', 1)];
  ts[0]!.inflight = 2; // 2/3 per unit
  ts[1]!.inflight = 1; // 1 per unit
  const b = leastConnections<FakeTarget>();
  assert.equal(b.pick(ts, {})!.url, 'a');
  ts[0]!.inflight = 4; // 4/3 per unit
  assert.equal(b.pick(ts, {})!.url, 'b');
});

test('least-connections: when every target is idle, picks rotate evenly', () => {
  const ts = [fake('a'), fake('b'), fake('c')];
  const b = leastConnections<FakeTarget>();
  const counts = tally(Array.from({ length: 300 }, () => b.pick(ts, {})));
  assert.deepEqual(Object.fromEntries(counts), { a: 100, b: 100, c: 100 });
});

test('least-connections: simulated in-flight load follows the weights (3:1 within 5%)', () => {
  const ts = [fake('a', 3), fake('b', 1)];
  const b = leastConnections<FakeTarget>();
  // Keep 40 requests in flight; each pick finishes the oldest.
  const open: FakeTarget[] = [];
  const picks: FakeTarget[] = [];
  for (let i = 0; i < 4000; i++) {
    if (open.length === 40) open.shift()!.inflight--;
    const t = b.pick(ts, {})!;
    t.inflight++;
    open.push(t);
    picks.push(t);
  }
  const a = tally(picks).get('a')!;
  assert.ok(Math.abs(a - 3000) <= 150, `a got ${a} of 4000`);
});

test('least-connections through the gateway: a slowed target gets far fewer requests', async (t) => {
  const fast = await startOrigin();
  let slowMs = 500;
  const slow = await startOrigin((_req, res) => {
    setTimeout(() => res.end('slow'), slowMs);
  });
  t.after(() => {
    slowMs = 0;
    return Promise.all([fast.close(), slow.close()]);
  });
  const gw = await startGateway({
    'routes.d/a.yaml': `services:
  svc:
    loadBalancer: least-connections
    discovery: { static: ["${fast.url}", "${slow.url}"] }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc } }
`,
  });
  t.after(() => gw.close());
  // 4 clients share 80 requests: round robin would send 40 to the slow target.
  let left = 80;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (left-- > 0) {
        const res = await request(`${gw.url}/x`);
        await res.body.dump();
        assert.equal(res.statusCode, 200);
      }
    }),
  );
  assert.equal(fast.seen.length + slow.seen.length, 80);
  assert.ok(slow.seen.length <= 20, `slow target got ${slow.seen.length} of 80`);
});
