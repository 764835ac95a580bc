import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TargetSpec } from '../../src/config/snapshot.js';
import { redisDiscovery } from '../../src/discovery/redis.js';
import { registerTarget } from '../../src/discovery/register.js';
import { startGateway } from '../helpers/gateway.js';
import { startRedisServer } from '../helpers/redis-with-client.js';
import { eventually, namedOrigin, servedBy, startTraffic, teardown } from '../helpers/traffic.js';

const KEY = 'services:svc';

test('redis registry: a registered member joins, one whose heartbeat stopped expires and leaves, requests keep succeeding', async (t) => {
  const later = teardown(t);
  const [a, b, c] = await Promise.all([namedOrigin('a'), namedOrigin('b'), namedOrigin('c')]);
  later(() => Promise.all([a.close(), b.close(), c.close()]));
  const redis = await startRedisServer();
  later(() => redis.close());
  const reg = await registerTarget({ redis: redis.url, key: KEY, url: a.url, ttl: 3000 });
  later(() => reg.stop());
  // b's heartbeat is the test's own, so the test can stop it without deregistering (as a crashed member would).
  const bMember = JSON.stringify({ url: b.url, weight: 1 });
  const beatB = () => redis.client.zadd(KEY, Date.now() + 1500, bMember);
  await beatB();
  const heartbeat = setInterval(() => void beatB(), 300);
  later(() => clearInterval(heartbeat));
  // Already expired: never a target.
  await redis.client.zadd(KEY, Date.now() - 1, c.url);

  const gw = await startGateway({
    // keyPrefix is set, and the discovery key is still used verbatim.
    'gatehouse.yaml': `admin: { enabled: false }\nredis: { url: "${redis.url}", keyPrefix: "gh:" }\n`,
    'routes.d/svc.yaml': `services:\n  svc:\n    discovery:\n      redis: { key: "${KEY}" }\nroutes:\n  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`,
  });
  later(() => gw.close());
  await eventually('the registry is read', async () => (await fetch(`${gw.url}/`)).status === 200);
  const traffic = startTraffic(`${gw.url}/`);
  later(() => traffic.stop());
  await eventually('a and b serve', servedBy(traffic, ['a', 'b']));
  clearInterval(heartbeat);
  await eventually('b expired and left', servedBy(traffic, ['a'], 30));
  assert.ok(Number(await redis.client.zscore(KEY, bMember)) <= Date.now(), "b's entry has expired (or was cleaned up)");

  // c registers properly (a weight makes the member JSON) and joins.
  const regC = await registerTarget({ redis: redis.url, key: KEY, url: c.url, ttl: 3000, weight: 2 });
  later(() => regC.stop());
  assert.equal(regC.member, JSON.stringify({ url: c.url, weight: 2 }));
  await eventually('a and c serve', servedBy(traffic, ['a', 'c']));
  assert.equal(gw.gateway.serviceSet.get('svc')!.list().find((x) => x.url === c.url)?.weight, 2);

  await traffic.stop();
  assert.deepEqual(traffic.failures, []);
});

test('redis discovery keeps the last good list while Redis is down', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.close());
  await redis.client.zadd(KEY, Date.now() + 60_000, 'http://127.0.0.1:3001');
  await redis.client.zadd(KEY, Date.now() + 60_000, '{"url": "ftp://nope"}'); // not a target: ignored
  const lists: TargetSpec[][] = [];
  const warnings: string[] = [];
  const logger = { info: () => undefined, warn: (_o: object, msg: string) => void warnings.push(msg) };
  const stop = redisDiscovery({ key: KEY, interval: 100 }, { url: redis.url, commandTimeout: 50 }, 'http', logger).watch((l) => lists.push([...l]));
  t.after(stop);
  await eventually('the first list', () => lists.length > 0);
  assert.deepEqual(lists[0], [{ url: 'http://127.0.0.1:3001', weight: 1 }]);
  assert.ok(warnings.some((w) => w.includes('not a target')));

  await redis.close();
  await eventually('the provider notices Redis is gone', () => warnings.some((w) => w.includes('cannot read')));
  assert.equal(lists.length, 1, 'nothing announced while Redis is down');
});

test('registerTarget stop() removes the member at once', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.close());
  const reg = await registerTarget({ redis: redis.url, key: 'k', url: 'http://127.0.0.1:3001', ttl: 10_000 });
  const score = Number(await redis.client.zscore('k', 'http://127.0.0.1:3001'));
  assert.ok(score > Date.now(), 'scored with its expiry');
  await reg.stop();
  assert.equal(await redis.client.zscore('k', 'http://127.0.0.1:3001'), null);
  await assert.rejects(registerTarget({ redis: redis.url, key: 'k', url: 'http://127.0.0.1:3001/path', ttl: 10_000 }), /path/);
});
