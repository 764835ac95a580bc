import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { memoryCacheStore } from '../../../src/plugins/cache/store.js';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startOrigin } from '../../helpers/upstream.js';
import { setTimeout as sleep } from 'node:timers/promises';

const STALE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../src/plugins/cache/stale.ts');
const SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../src/index.ts');

/** Stands in for the resilience layer: answers from lookupStale when asked to by a header. */
const FALLBACK = `import { definePlugin, Type } from ${JSON.stringify(SRC)};
import { lookupStale, replyFromCache } from ${JSON.stringify(STALE)};
export default definePlugin({
  name: 'fallback',
  config: Type.Object({}),
  create() {
    return {
      preHandler: async (request, reply) => {
        if (request.headers['x-test-fallback'] === undefined) return;
        const stale = await lookupStale(request);
        if (stale) return replyFromCache(request, reply, stale, 'STALE');
        reply.code(599).send('no stale entry');
        return reply;
      },
    };
  },
});
`;

test('lookupStale finds the entry for a request and replyFromCache answers x-cache: STALE with the current request id', async (t) => {
  const origin = await startOrigin((_req, res) => res.end('stored body'));
  t.after(() => origin.close());
  const gw = await startGateway({
    'plugins/fallback.mts': FALLBACK,
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - cache\n      - fallback\n`),
  });
  t.after(() => gw.close());
  const none = await request(`${gw.url}/api/x`, { headers: { 'x-test-fallback': '1', 'cache-control': 'no-cache' } });
  assert.equal(none.statusCode, 599);
  await none.body.dump();
  await (await request(`${gw.url}/api/x`)).body.dump();
  // no-cache skips the cache's own lookup, so the fallback plugin is what answers.
  const res = await request(`${gw.url}/api/x`, { headers: { 'x-test-fallback': '1', 'cache-control': 'no-cache', 'x-request-id': 'now' } });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-cache'], 'STALE');
  assert.equal(res.headers['x-request-id'], 'now');
  assert.ok(res.headers.age !== undefined);
  assert.equal(await res.body.text(), 'stored body');
  assert.equal(origin.seen.length, 1, 'only the plain request reached the upstream');
});

test('the memory store keeps an entry for freshness + grace, then forgets it', async () => {
  const store = memoryCacheStore('grace-test', 1024);
  const entry = { status: 200, headers: [], body: Buffer.from('b'), storedAt: Date.now(), freshUntil: Date.now(), shared: false };
  await store.set('k', entry, 60);
  assert.equal((await store.get('k'))?.body.toString(), 'b', 'a stale entry is still there within grace');
  await sleep(100);
  assert.equal(await store.get('k'), null);
});

test('the memory store drops the least recently used entries beyond maxSize', async () => {
  const store = memoryCacheStore('lru-test', 10);
  const e = (s: string) => ({ status: 200, headers: [], body: Buffer.from(s), storedAt: 0, freshUntil: Date.now() + 1e6, shared: false });
  await store.set('a', e('aaaa'), 1e6);
  await store.set('b', e('bbbb'), 1e6);
  await store.get('a');
  await store.set('c', e('cccc'), 1e6);
  assert.notEqual(await store.get('a'), null);
  assert.equal(await store.get('b'), null);
  assert.notEqual(await store.get('c'), null);
});
