import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { redisErrors } from '../../../src/observability/metrics.js';
import { configDir, routeFile, startGateway } from '../../helpers/gateway.js';
import { startCli } from '../../helpers/cli.js';
import { startRedis, startRedisCluster } from '../../helpers/redis-server.js';
import { closedPort, startOrigin } from '../../helpers/upstream.js';

async function get(url: string) {
  const res = await request(url);
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, code: text.startsWith('{') ? (JSON.parse(text) as { code?: string }).code : undefined };
}

/** Polls until a response carries RateLimit headers again (Redis reconnected), bounded. */
async function untilCounted(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await get(url)).headers['ratelimit-limit'] !== undefined) return;
    await sleep(50);
  }
  throw new Error('the limit never came back after Redis returned');
}

async function redisErrorCount(component: string): Promise<number> {
  const metric = await redisErrors.get();
  return metric.values.find((v) => v.labels.component === component)?.value ?? 0;
}

const route = (limit: number) => `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: ${limit}, window: 1h }\n`;

async function cliGateway(t: { after(fn: () => unknown): void }, args: string[], cwd: string): Promise<{ url: string; output(): string }> {
  const gw = startCli(args, cwd);
  t.after(() => gw.child.kill('SIGKILL'));
  const port = await gw.listening;
  return { url: `http://127.0.0.1:${port}`, output: gw.output };
}

test('one limit shared by two gateway processes: limit 10 across both, the 11th is 429 whichever gets it', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const redis = await startRedis();
  t.after(() => redis.close());
  const settings = `admin: { enabled: false }\nroutes: ./routes.d\nserver: { host: 127.0.0.1, port: 0 }\nredis: { url: "${redis.url}", commandTimeout: 500ms }\n`;
  const dir = await configDir({ 'gatehouse.yaml': settings, 'second.yaml': settings, 'routes.d/a.yaml': routeFile([origin.url], route(10)) });
  t.after(() => dir.cleanup());
  const [a, b] = await Promise.all([cliGateway(t, ['start'], dir.dir), cliGateway(t, ['start', '-c', 'second.yaml'], dir.dir)]);
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await get(`${(i % 2 ? b : a).url}/api/x`)).status);
  assert.deepEqual(statuses, Array(10).fill(200));
  assert.equal((await get(`${a.url}/api/x`)).status, 429);
  assert.equal((await get(`${b.url}/api/x`)).status, 429);
  assert.equal(origin.seen.length, 10);
});

test('concurrent requests through two instances on one Redis never pass above the limit', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const redis = await startRedis();
  t.after(() => redis.close());
  for (const algorithm of ['fixed-window', 'sliding-window']) {
    const files = {
      'gatehouse.yaml': `admin: { enabled: false }\nredis: { url: "${redis.url}", commandTimeout: 1s }\n`,
      'routes.d/a.yaml': routeFile([origin.url], route(10).replace('window: 1h', `window: 1h, algorithm: ${algorithm}`).replace('id: api', `id: api-${algorithm}`)),
    };
    const a = await startGateway(files);
    t.after(() => a.close());
    const b = await startGateway(files);
    t.after(() => b.close());
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => get(`${(i % 2 ? a : b).url}/api/x`).then((r) => r.status)));
    assert.equal(statuses.filter((s) => s === 200).length, 10, algorithm);
    assert.equal(statuses.filter((s) => s === 429).length, 30, algorithm);
  }
});

test('server.workers: 2 share one limit through Redis', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const redis = await startRedis();
  t.after(() => redis.close());
  const dir = await configDir({
    'gatehouse.yaml': `admin: { enabled: false }\nserver: { host: 127.0.0.1, port: 0, workers: 2 }\nredis: { url: "${redis.url}", commandTimeout: 500ms }\n`,
    'routes.d/a.yaml': routeFile([origin.url], route(10)),
  });
  t.after(() => dir.cleanup());
  const gw = await cliGateway(t, ['start'], dir.dir);
  const listening = () => gw.output().split('\n').filter((l) => l.includes('gateway listening')).length;
  for (let i = 0; i < 200 && listening() < 2; i++) await sleep(50);
  assert.equal(listening(), 2, 'both workers listen');
  // Fresh connections, so the primary spreads them over both workers.
  const fresh = new Agent({ pipelining: 0, keepAliveTimeout: 1 });
  t.after(() => fresh.close());
  const statuses: number[] = [];
  for (let i = 0; i < 16; i++) {
    const r = await request(`${gw.url}/api/x`, { dispatcher: fresh, headers: { connection: 'close' } });
    await r.body.dump();
    statuses.push(r.statusCode);
  }
  assert.deepEqual(statuses, [...Array(10).fill(200), ...Array(6).fill(429)]);
  // Each worker's log lines reach its output in batches, at least every 100 ms (src/logger.ts).
  const pids = () =>
    new Set(
      gw
        .output()
        .split('\n')
        .filter((l) => l.includes('"msg":"request"'))
        .map((l) => (JSON.parse(l) as { pid: number }).pid),
    );
  for (let i = 0; i < 100 && pids().size < 2; i++) await sleep(50);
  assert.equal(pids().size, 2, 'both workers answered');
});

for (const onError of ['allow', 'deny'] as const) {
  test(`redis killed, then stopped (SIGSTOP), with onError: ${onError}: answered either way, and the limit works again once Redis is back`, async (t) => {
    const origin = await startOrigin();
    t.after(() => origin.close());
    const redis = await startRedis();
    t.after(() => redis.close());
    const gw = await startGateway({
      'gatehouse.yaml': `admin: { enabled: false }\nredis: { url: "${redis.url}", commandTimeout: 150ms, onError: ${onError} }\n`,
      'routes.d/a.yaml': routeFile([origin.url], route(3)),
    });
    t.after(() => gw.close());
    const url = `${gw.url}/api/x`;
    const first = await get(url);
    assert.equal(first.status, 200);
    assert.equal(first.headers['ratelimit-remaining'], '2');

    const expectOutage = (r: Awaited<ReturnType<typeof get>>, what: string) => {
      if (onError === 'allow') {
        assert.equal(r.status, 200, `${what}: fail open`);
        assert.equal(r.headers['ratelimit-limit'], undefined);
      } else {
        assert.equal(r.status, 503, `${what}: fail closed`);
        assert.equal(r.code, 'RATE_LIMIT_UNAVAILABLE');
      }
    };

    await redis.kill();
    expectOutage(await get(url), 'refused');
    expectOutage(await get(url), 'refused again');
    await redis.start(); // empty: counts start over
    await untilCounted(url);
    const afterRestart = [await get(url), await get(url), await get(url)].map((r) => r.status);
    assert.deepEqual(afterRestart, [200, 200, 429], 'limits are enforced again after Redis restarts');

    redis.pause();
    t.after(() => redis.resume());
    expectOutage(await get(url), 'hanging');
    redis.resume();
    for (let i = 0; i < 200 && (await get(url)).status !== 429; i++) await sleep(50);
    const back = await get(url);
    assert.equal(back.status, 429, 'after SIGCONT the count in Redis applies again');
    assert.equal(back.headers['ratelimit-remaining'], '0');
  });
}

test('the gateway counts in a three-node Redis Cluster given as redis.cluster', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const cluster = await startRedisCluster();
  t.after(() => cluster.close());
  const gw = await startGateway({
    'gatehouse.yaml': `admin: { enabled: false }\nredis: { cluster: [${cluster.addresses.map((a) => JSON.stringify(a)).join(', ')}], commandTimeout: 500ms, onError: deny }\n`,
    'routes.d/a.yaml': routeFile([origin.url], route(2).replace('window: 1h', 'window: 1h, algorithm: sliding-window')),
  });
  t.after(() => gw.close());
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await get(`${gw.url}/api/x`)).status);
  assert.deepEqual(statuses, [200, 200, 429]);
  const key = 'gatehouse:{api:ip=127.0.0.1}:rl-sliding';
  assert.equal(cluster.nodes.filter((n) => n.cli('exists', key).trim() === '1').length, 1);
});

test('redis configured but not reachable at start: the gateway starts and applies onError', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const port = await closedPort();
  const gw = await startGateway({
    'gatehouse.yaml': `admin: { enabled: false }\nredis: { url: "redis://127.0.0.1:${port}", commandTimeout: 50ms, onError: deny }\n`,
    'routes.d/a.yaml': routeFile([origin.url], route(3)),
  });
  t.after(() => gw.close());
  const before = await redisErrorCount('rate-limit');
  const r = await get(`${gw.url}/api/x`);
  assert.equal(r.status, 503);
  assert.equal(r.code, 'RATE_LIMIT_UNAVAILABLE');
  assert.equal(origin.seen.length, 0);
  assert.equal(await redisErrorCount('rate-limit'), before + 1, 'gatehouse_redis_errors_total{component="rate-limit"} counts it');
});

test('a reload that adds redis to gatehouse.yaml moves counting to Redis; one that removes it goes back to memory', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const redis = await startRedis();
  t.after(() => redis.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route(100)) });
  t.after(() => gw.close());
  assert.equal((await get(`${gw.url}/api/x`)).headers['ratelimit-remaining'], '99');
  assert.equal(redis.cli('exists', 'gatehouse:{api:ip=127.0.0.1}:rl-fixed').trim(), '0');

  await gw.dir.write('gatehouse.yaml', `admin: { enabled: false }\nredis: { url: "${redis.url}", commandTimeout: 500ms }\n`);
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.equal((await get(`${gw.url}/api/x`)).headers['ratelimit-remaining'], '99', 'Redis starts its own count');
  assert.equal(redis.cli('hget', 'gatehouse:{api:ip=127.0.0.1}:rl-fixed', 'c').trim(), '1');

  await gw.dir.write('gatehouse.yaml', 'admin: { enabled: false }\n');
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.equal((await get(`${gw.url}/api/x`)).headers['ratelimit-remaining'], '98', 'the memory count kept across reloads');
  assert.equal(redis.cli('hget', 'gatehouse:{api:ip=127.0.0.1}:rl-fixed', 'c').trim(), '1');
  for (let i = 0; i < 100 && redis.cli('client', 'list').split('\n').filter((l) => l.includes('cmd=') && !l.includes('cmd=client')).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(redis.cli('client', 'list').split('\n').filter((l) => l.includes('cmd=') && !l.includes('cmd=client')).length, 0, 'the old connection was closed');
});
