import assert from 'node:assert/strict';
import type http from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { routeFile, startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { startOrigin, type Origin } from '../../helpers/upstream.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** An origin answering with a counter in the body, so a HIT is told apart from a fresh answer. */
async function countingOrigin(t: { after(fn: () => unknown): void }, handle?: Handler): Promise<Origin> {
  let n = 0;
  const origin = await startOrigin((req, res) => {
    n++;
    if (handle) return handle(req, res);
    res.setHeader('content-type', 'text/plain');
    // Streamed in pieces (chunked), as most upstreams answer.
    res.write(`answer ${n} `);
    res.end(`for ${req.url}`);
  });
  t.after(() => origin.close());
  return origin;
}

async function gatewayWithCache(t: { after(fn: () => unknown): void }, origin: Origin, cacheConfig = '{}', extraPlugins = ''): Promise<RunningGateway> {
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n${extraPlugins}      - cache: ${cacheConfig}\n`),
  });
  t.after(() => gw.close());
  return gw;
}

async function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const res = await request(url, { headers, method });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

test('a miss is fetched and stored; the next request is a HIT with Age and its own x-request-id', async (t) => {
  const origin = await countingOrigin(t);
  const gw = await gatewayWithCache(t, origin);
  const first = await get(`${gw.url}/api/x`, { 'x-request-id': 'first-request' });
  assert.equal(first.headers['x-cache'], 'MISS');
  assert.equal(first.text, 'answer 1 for /api/x');
  const second = await get(`${gw.url}/api/x`, { 'x-request-id': 'second-request' });
  assert.equal(second.status, 200);
  assert.equal(second.headers['x-cache'], 'HIT');
  assert.equal(second.text, 'answer 1 for /api/x');
  assert.equal(second.headers['content-type'], 'text/plain');
  assert.equal(second.headers['x-request-id'], 'second-request');
  assert.ok(Number(second.headers.age) >= 0);
  assert.equal(origin.seen.length, 1);
});

test('the key sorts the query, separates hosts and methods, and ignores other request headers', async (t) => {
  const origin = await countingOrigin(t);
  const gw = await gatewayWithCache(t, origin);
  assert.equal((await get(`${gw.url}/api/q?a=1&b=2`)).headers['x-cache'], 'MISS');
  assert.equal((await get(`${gw.url}/api/q?b=2&a=1`, { 'x-other': 'z' })).headers['x-cache'], 'HIT');
  assert.equal((await get(`${gw.url}/api/q?a=1&b=3`)).headers['x-cache'], 'MISS');
  assert.equal((await get(`${gw.url}/api/q?a=1&b=2`, { host: 'other.example' })).headers['x-cache'], 'MISS');
  const head = await get(`${gw.url}/api/q?a=1&b=2`, {}, 'HEAD');
  assert.equal(head.headers['x-cache'], 'MISS');
  assert.equal((await get(`${gw.url}/api/q?a=1&b=2`, {}, 'HEAD')).headers['x-cache'], 'HIT');
  const post = await get(`${gw.url}/api/q?a=1&b=2`, {}, 'POST');
  assert.equal(post.headers['x-cache'], undefined, 'POST is never cached');
  assert.equal(origin.seen.length, 5);
});

test('vary headers are part of the key; an upstream Vary on a header not in the key is not stored', async (t) => {
  const origin = await countingOrigin(t, (req, res) => {
    res.setHeader('vary', req.url!.includes('other') ? 'x-other' : 'x-lang');
    res.end(`lang ${req.headers['x-lang'] ?? '-'}`);
  });
  const gw = await gatewayWithCache(t, origin, '{ vary: [X-Lang] }');
  assert.equal((await get(`${gw.url}/api/v`, { 'x-lang': 'en' })).headers['x-cache'], 'MISS');
  assert.equal((await get(`${gw.url}/api/v`, { 'x-lang': 'fr' })).headers['x-cache'], 'MISS');
  const en = await get(`${gw.url}/api/v`, { 'x-lang': 'en' });
  assert.equal(en.headers['x-cache'], 'HIT');
  assert.equal(en.text, 'lang en');
  assert.equal((await get(`${gw.url}/api/v`, { 'x-lang': 'fr' })).text, 'lang fr');
  await get(`${gw.url}/api/other`);
  assert.equal((await get(`${gw.url}/api/other`)).headers['x-cache'], 'MISS');
});

test('Cache-Control from the upstream: no-store, private, no-cache, max-age with Age, s-maxage over max-age, Set-Cookie', async (t) => {
  const byPath: Record<string, Record<string, string>> = {
    '/api/no-store': { 'cache-control': 'no-store' },
    '/api/private': { 'cache-control': 'private, max-age=60' },
    '/api/no-cache': { 'cache-control': 'no-cache' },
    '/api/aged': { 'cache-control': 'max-age=5', age: '5' },
    '/api/s-maxage-zero': { 'cache-control': 'max-age=600, s-maxage=0' },
    '/api/cookie': { 'set-cookie': 'a=b' },
    '/api/s-maxage': { 'cache-control': 'max-age=0, s-maxage=600' },
    '/api/plain': {},
  };
  const origin = await countingOrigin(t, (req, res) => {
    for (const [k, v] of Object.entries(byPath[req.url!] ?? {})) res.setHeader(k, v);
    res.end('x');
  });
  const gw = await gatewayWithCache(t, origin, '{ ttl: 1h }');
  const second: Record<string, unknown> = {};
  for (const p of Object.keys(byPath)) {
    await get(`${gw.url}${p}`);
    second[p] = (await get(`${gw.url}${p}`)).headers['x-cache'];
  }
  assert.deepEqual(second, {
    '/api/no-store': 'MISS',
    '/api/private': 'MISS',
    '/api/no-cache': 'MISS',
    '/api/aged': 'MISS',
    '/api/s-maxage-zero': 'MISS',
    '/api/cookie': 'MISS',
    '/api/s-maxage': 'HIT',
    '/api/plain': 'HIT',
  });
});

test('a request with no-cache skips the lookup and refreshes the entry; no-store is neither served nor stored', async (t) => {
  const origin = await countingOrigin(t);
  const gw = await gatewayWithCache(t, origin);
  await get(`${gw.url}/api/r`);
  const refreshed = await get(`${gw.url}/api/r`, { 'cache-control': 'no-cache' });
  assert.equal(refreshed.headers['x-cache'], 'MISS');
  assert.equal(refreshed.text, 'answer 2 for /api/r');
  assert.equal((await get(`${gw.url}/api/r`)).text, 'answer 2 for /api/r');
  assert.equal((await get(`${gw.url}/api/s`, { 'cache-control': 'no-store' })).headers['x-cache'], 'MISS');
  assert.equal((await get(`${gw.url}/api/s`)).headers['x-cache'], 'MISS');
});

test('a request with Authorization is served or stored only when the upstream said public or s-maxage', async (t) => {
  const origin = await countingOrigin(t, (req, res) => {
    if (req.url === '/api/public') res.setHeader('cache-control', 'public, max-age=60');
    res.end(`for ${req.headers.authorization ?? 'nobody'}`);
  });
  const gw = await gatewayWithCache(t, origin);
  await get(`${gw.url}/api/mine`, { authorization: 'Bearer a' });
  const other = await get(`${gw.url}/api/mine`, { authorization: 'Bearer b' });
  assert.equal(other.headers['x-cache'], 'MISS');
  assert.equal(other.text, 'for Bearer b');
  await get(`${gw.url}/api/anon`);
  assert.equal((await get(`${gw.url}/api/anon`, { authorization: 'Bearer a' })).headers['x-cache'], 'MISS', 'an anonymous entry is not served to an authorized request');
  await get(`${gw.url}/api/public`, { authorization: 'Bearer a' });
  assert.equal((await get(`${gw.url}/api/public`, { authorization: 'Bearer b' })).headers['x-cache'], 'HIT');
});

test('concurrent misses for one key make one upstream call (coalescing)', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const origin = await countingOrigin(t, (_req, res) => {
    void gate.then(() => {
      res.write('slow ');
      res.end('answer');
    });
  });
  const gw = await gatewayWithCache(t, origin);
  const all = Array.from({ length: 6 }, (_, i) => get(`${gw.url}/api/slow`, { 'x-request-id': `req-${i}` }));
  for (let i = 0; i < 100 && origin.seen.length === 0; i++) await sleep(10);
  await sleep(300); // the others are at the gateway by now, waiting on the first
  release();
  const answers = await Promise.all(all);
  assert.equal(origin.seen.length, 1);
  assert.deepEqual(
    answers.map((a) => a.text),
    Array(6).fill('slow answer'),
  );
  assert.equal(answers.filter((a) => a.headers['x-cache'] === 'HIT').length, 5);
  assert.deepEqual(
    answers.map((a) => a.headers['x-request-id']),
    answers.map((_, i) => `req-${i}`),
  );
});

test('a body over maxEntrySize is passed through whole and not stored', async (t) => {
  const big = 'x'.repeat(5000);
  const origin = await countingOrigin(t, (_req, res) => {
    res.write(big.slice(0, 2500));
    res.end(big.slice(2500));
  });
  const gw = await gatewayWithCache(t, origin, '{ maxEntrySize: 4kb }');
  const first = await get(`${gw.url}/api/big`);
  assert.equal(first.text, big);
  const second = await get(`${gw.url}/api/big`);
  assert.equal(second.headers['x-cache'], 'MISS');
  assert.equal(second.text, big);
  assert.equal(origin.seen.length, 2);
});

test('an upstream reset mid-body is not stored', async (t) => {
  let n = 0;
  const origin = await countingOrigin(t, (_req, res) => {
    n++;
    if (n === 1) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.end('complete');
  });
  const gw = await gatewayWithCache(t, origin);
  await assert.rejects(get(`${gw.url}/api/reset`));
  const second = await get(`${gw.url}/api/reset`);
  assert.equal(second.headers['x-cache'], 'MISS');
  assert.equal(second.text, 'complete');
  assert.equal((await get(`${gw.url}/api/reset`)).headers['x-cache'], 'HIT');
});

test('gateway errors (503 with no target) are not cached', async (t) => {
  const origin = await countingOrigin(t);
  const gw = await gatewayWithCache(t, origin);
  await origin.close();
  assert.equal((await get(`${gw.url}/api/down`)).status, 503);
  const again = await get(`${gw.url}/api/down`);
  assert.equal(again.status, 503);
  assert.equal(again.headers['x-cache'], 'MISS');
});
