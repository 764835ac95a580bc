import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { consistentHash } from '../../src/balancers/consistent-hash.js';
import { startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';
import { fake, fakes, seeded, tally, type FakeTarget } from './fake-targets.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function assign(targets: FakeTarget[], b = consistentHash<FakeTarget>()): Map<string, string> {
  b.update?.(targets);
  return new Map(KEYS.map((k) => [k, b.pick(targets, { key: k })!.url]));
}

test('consistent-hash: the same key always goes to the same target', () => {
  const ts = fakes(5);
  const b = consistentHash<FakeTarget>();
  b.update?.(ts);
  for (const k of KEYS.slice(0, 200)) {
    const first = b.pick(ts, { key: k });
    for (let i = 0; i < 5; i++) assert.equal(b.pick(ts, { key: k }), first);
  }
});

test('consistent-hash: 10,000 keys spread over 4 equal targets, each within 25% +- 6%', () => {
  const counts = tally([...assign(fakes(4)).values()].map((url) => ({ url })));
  assert.equal(counts.size, 4);
  for (const [url, n] of counts) assert.ok(n >= 1900 && n <= 3100, `${url}: ${n} of 10000`);
});

test('consistent-hash: weights scale a target\'s share (weight 3 of 4 gets 75% +- 7%)', () => {
  const counts = tally([...assign([fake('http://a:1', 3), fake('http://b:1', 1)]).values()].map((url) => ({ url })));
  const a = counts.get('http://a:1')!;
  assert.ok(a >= 6800 && a <= 8200, `weight-3 target got ${a} of 10000`);
});

test('consistent-hash: a target joining moves about 1/N of keys, all of them to the new target', () => {
  const four = fakes(5).slice(0, 4);
  const five = [...four, fakes(5)[4]!];
  const before = assign(four);
  const after = assign(five);
  let moved = 0;
  for (const k of KEYS) {
    if (before.get(k) === after.get(k)) continue;
    moved++;
    assert.equal(after.get(k), five[4]!.url, `${k} moved between two old targets`);
  }
  const fraction = moved / KEYS.length;
  assert.ok(fraction >= 0.13 && fraction <= 0.27, `moved ${fraction} of keys, expected about 0.2`);
});

test('consistent-hash: a target leaving moves only its own keys', () => {
  const five = fakes(5);
  const before = assign(five);
  const after = assign(five.slice(0, 4));
  const gone = five[4]!.url;
  let moved = 0;
  for (const k of KEYS) {
    if (before.get(k) === gone) {
      moved++;
      assert.notEqual(after.get(k), gone);
    } else assert.equal(after.get(k), before.get(k), `${k} moved though its target stayed`);
  }
  const fraction = moved / KEYS.length;
  assert.ok(fraction >= 0.13 && fraction <= 0.27, `moved ${fraction} of keys, expected about 0.2`);
});

test('consistent-hash: keys of an unavailable target go elsewhere and come back when it returns', () => {
  const ts = fakes(4);
  const b = consistentHash<FakeTarget>();
  b.update?.(ts);
  const home = new Map(KEYS.slice(0, 2000).map((k) => [k, b.pick(ts, { key: k })!]));
  const without = ts.slice(1);
  for (const [k, t] of home) {
    const now = b.pick(without, { key: k })!;
    if (t === ts[0]) assert.notEqual(now, ts[0]);
    else assert.equal(now, t, 'a key of an available target moved');
  }
  for (const [k, t] of home) assert.equal(b.pick(ts, { key: k }), t);
});

test('consistent-hash bounded load: a target over 1.25x its share of in-flight requests is passed over', () => {
  const ts = fakes(3);
  const b = consistentHash<FakeTarget>();
  b.update?.(ts);
  const key = 'hot-key';
  const home = b.pick(ts, { key })!;
  // 10 in flight on the home target: capacity is ceil(1.25 * 11 / 3) = 5.
  home.inflight = 10;
  const other = b.pick(ts, { key })!;
  assert.notEqual(other, home);
  // And the overflow is sticky too: the next target clockwise.
  assert.equal(b.pick(ts, { key }), other);
  // Under its share again (4 of 10 in flight: capacity ceil(1.25 * 11 / 3) = 5): back home.
  home.inflight = 4;
  for (const t of ts) if (t !== home) t.inflight = 3;
  assert.equal(b.pick(ts, { key }), home);
});

test('consistent-hash: a request without a key is placed at random (not all on one target)', () => {
  const ts = fakes(3);
  const b = consistentHash<FakeTarget>({ rand: seeded(3) });
  b.update?.(ts);
  const counts = tally(Array.from({ length: 3000 }, () => b.pick(ts, {})));
  assert.equal(counts.size, 3);
  for (const n of counts.values()) assert.ok(n >= 700, `${n} of 3000`);
});

test('consistent-hash: works without update() (targets seen in pick join the ring)', () => {
  const ts = fakes(3);
  const b = consistentHash<FakeTarget>();
  const first = b.pick(ts, { key: 'k' });
  assert.ok(ts.includes(first!));
  assert.equal(b.pick(ts, { key: 'k' }), first);
});

test('consistent-hash through the gateway: hashKey header:x-user-id keeps each user on one target', async (t) => {
  const origins = await Promise.all([startOrigin(), startOrigin(), startOrigin()]);
  t.after(() => Promise.all(origins.map((o) => o.close())));
  const gw = await startGateway({
    'routes.d/a.yaml': `services:
  svc:
    loadBalancer: consistent-hash
    hashKey: header:x-user-id
    discovery: { static: [${origins.map((o) => `"${o.url}"`).join(', ')}] }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc } }
`,
  });
  t.after(() => gw.close());
  for (let round = 0; round < 3; round++) {
    for (let u = 0; u < 30; u++) {
      const res = await request(`${gw.url}/x`, { headers: { 'x-user-id': `u${u}` } });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    }
  }
  const servedBy = new Map<string, Set<number>>();
  origins.forEach((o, i) => {
    for (const s of o.seen) {
      const u = String(s.headers['x-user-id']);
      if (!servedBy.has(u)) servedBy.set(u, new Set());
      servedBy.get(u)!.add(i);
    }
  });
  assert.equal(servedBy.size, 30);
  for (const [u, set] of servedBy) assert.equal(set.size, 1, `${u} was served by ${set.size} targets`);
  // And the users are spread, not all on one target.
  assert.ok(origins.filter((o) => o.seen.length > 0).length >= 2);
});
