import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startRedis } from '../../helpers/redis-server.js';
import { startOrigin } from '../../helpers/upstream.js';

/** Both instances see the same Host, as behind one load balancer (the host is part of the key). */
async function get(url: string) {
  const res = await request(url, { headers: { host: 'api.example.com' } });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

test('with redis configured, entries live in Redis: a second gateway instance serves the HIT; a dead Redis is a MISS, never an error', async (t) => {
  let n = 0;
  const origin = await startOrigin((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ n: ++n }));
  });
  t.after(() => origin.close());
  const redis = await startRedis();
  t.after(() => redis.close());
  const files = {
    'gatehouse.yaml': `admin: { enabled: false }\nredis: { url: "${redis.url}", keyPrefix: "gh:", commandTimeout: 200ms, onError: deny }\n`,
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - cache: { ttl: 1m, grace: 30s }\n`),
  };
  const a = await startGateway(files);
  t.after(() => a.close());
  const b = await startGateway(files);
  t.after(() => b.close());

  assert.equal((await get(`${a.url}/api/x`)).headers['x-cache'], 'MISS');
  const fromB = await get(`${b.url}/api/x`);
  assert.equal(fromB.headers['x-cache'], 'HIT');
  assert.deepEqual(JSON.parse(fromB.text), { n: 1 });
  assert.equal(fromB.headers['content-type'], 'application/json');
  const keys = redis.cli('--scan', '--pattern', 'gh:{api:*}:cache').trim().split('\n');
  assert.equal(keys.length, 1);
  const ttl = Number(redis.cli('pttl', keys[0]!));
  assert.ok(ttl > 60_000 && ttl <= 90_000, `kept for ttl + grace, got ${ttl}`);

  await redis.kill();
  const down = await get(`${a.url}/api/x`);
  assert.equal(down.status, 200, 'the cache fails open even with onError: deny');
  assert.equal(down.headers['x-cache'], 'MISS');
  assert.deepEqual(JSON.parse(down.text), { n: 2 });
});
