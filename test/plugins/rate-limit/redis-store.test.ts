import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisKeyFor, redisStore } from '../../../src/plugins/rate-limit/redis-store.js';
import type { LimitPolicy } from '../../../src/plugins/rate-limit/store.js';
import type { SharedRedis } from '../../../src/redis/shared-redis.js';
import { connectRedis } from '../../../src/redis/connection.js';
import { silent } from '../../helpers/gateway.js';
import { startRedis, startRedisCluster } from '../../helpers/redis-server.js';

/** Long enough that no key expires in real time while the test clock stands still. */
const W = 60_000;
const settings = (url: string) => ({ url, keyPrefix: 'gh:', commandTimeout: 1000, onError: 'allow' as const });

async function burst(store: { hit(k: string): Promise<{ allowed: boolean }> }, key: string, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) if ((await store.hit(key)).allowed) ok++;
  return ok;
}

test('redis store', async (t) => {
  const server = await startRedis();
  t.after(() => server.close());
  const redis = connectRedis(settings(server.url), silent);
  t.after(() => redis.close());
  assert.equal(await redis.waitUntilReady(5000), true);

  await t.test('sliding window: a burst on each side of a window edge never exceeds the limit', async () => {
    let now = 10 * W - 1;
    const store = redisStore(redis, 'edge', { limit: 5, windowMs: W, algorithm: 'sliding-window' }, () => now);
    assert.equal(await burst(store, 'k', 5), 5);
    now += 2;
    assert.equal(await burst(store, 'k', 5), 0);
    now += W - 2;
    assert.equal(await burst(store, 'k', 6), 5);
  });

  await t.test('fixed window: counts restart at each aligned edge (the burst the sliding window prevents)', async () => {
    let now = 10 * W - 1;
    const store = redisStore(redis, 'edge', { limit: 5, windowMs: W, algorithm: 'fixed-window' }, () => now);
    assert.equal(await burst(store, 'k', 6), 5);
    now += 2;
    assert.equal(await burst(store, 'k', 6), 5);
  });

  await t.test('remaining and reset come back from the script', async () => {
    const now = 7 * W + 400;
    const store = redisStore(redis, 'numbers', { limit: 2, windowMs: W, algorithm: 'fixed-window' }, () => now);
    assert.deepEqual(await store.hit('k'), { allowed: true, remaining: 1, resetMs: W - 400 });
    assert.deepEqual(await store.hit('k'), { allowed: true, remaining: 0, resetMs: W - 400 });
    assert.deepEqual(await store.hit('k'), { allowed: false, remaining: 0, resetMs: W - 400 });
  });

  await t.test('hits in one turn are one script call that answers each hit as if counted alone', async () => {
    for (const algorithm of ['fixed-window', 'sliding-window'] as const) {
      let evals = 0;
      const counted: SharedRedis = { ...redis, key: redis.key, eval: (script, keys, args) => (evals++, redis.eval(script, keys, args)) };
      const now = 9 * W + 100;
      const store = redisStore(counted, `turn-${algorithm}`, { limit: 5, windowMs: W, algorithm }, () => now);
      const verdicts = await Promise.all(Array.from({ length: 8 }, () => store.hit('k')));
      assert.equal(evals, 1, `${algorithm}: one call for the burst`);
      assert.deepEqual(verdicts.map((v) => v.allowed), [true, true, true, true, true, false, false, false], algorithm);
      assert.deepEqual(verdicts.map((v) => v.remaining), [4, 3, 2, 1, 0, 0, 0, 0], algorithm);
      // Counted as eight hits: the next one is refused, and the log holds the five accepted.
      assert.equal((await store.hit('k')).allowed, false, algorithm);
      assert.equal(evals, 2);
    }
    assert.equal(server.cli('zcard', 'gh:{turn-sliding-window:k}:rl-sliding').trim(), '5');
    assert.equal(server.cli('hget', 'gh:{turn-fixed-window:k}:rl-fixed', 'c').trim(), '9', 'a fixed window counts refused hits too');
  });

  await t.test('without a test clock the script uses Redis TIME and the key carries prefix, route and key only', async () => {
    const policy: LimitPolicy = { limit: 3, windowMs: 60_000, algorithm: 'sliding-window' };
    const a = redisStore(redis, 'orders', policy);
    const b = redisStore(redis, 'orders', policy); // another instance, same route
    assert.equal((await a.hit('ip=10.0.0.1')).remaining, 2);
    assert.equal((await b.hit('ip=10.0.0.1')).remaining, 1);
    assert.equal(redisKeyFor(redis, 'orders', 'ip=10.0.0.1', policy), 'gh:{orders:ip=10.0.0.1}:rl-sliding');
    assert.equal(server.cli('zcard', 'gh:{orders:ip=10.0.0.1}:rl-sliding').trim(), '2');
    assert.ok(Number(server.cli('pttl', 'gh:{orders:ip=10.0.0.1}:rl-sliding')) > 0, 'the key expires');
  });
});

test('redis cluster of three nodes: each limit is one hash-tagged key on one shard, atomically counted', async (t) => {
  const cluster = await startRedisCluster();
  t.after(() => cluster.close());
  const redis = connectRedis({ cluster: cluster.addresses, keyPrefix: 'gh:', commandTimeout: 1000, onError: 'deny' }, silent);
  t.after(() => redis.close());
  assert.equal(await redis.waitUntilReady(10_000), true);
  const homes = new Set<number>();
  for (const algorithm of ['fixed-window', 'sliding-window'] as const) {
    const store = redisStore(redis, 'orders', { limit: 3, windowMs: 60_000, algorithm });
    for (let user = 0; user < 12; user++) {
      assert.equal(await burst(store, `user=${user}`, 4), 3, `${algorithm} user ${user}`);
      const key = redisKeyFor(redis, 'orders', `user=${user}`, { limit: 3, windowMs: 60_000, algorithm });
      const holders = cluster.nodes.filter((n) => n.cli('exists', key).trim() === '1');
      assert.equal(holders.length, 1, `${key} lives on exactly one node`);
      homes.add(cluster.nodes.indexOf(holders[0]!));
    }
  }
  assert.ok(homes.size > 1, 'the limits spread over more than one shard');
});
