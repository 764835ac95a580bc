import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { closedPort, startOrigin } from '../helpers/upstream.js';

const srcUrl = (rel: string) => new URL(`../../src/${rel}`, import.meta.url).href;

/** A custom plugin standing in for the cache: it offers a stale copy through the stale-source interface. */
const STALE_PLUGIN = `
import { definePlugin, offerStale, Type } from ${JSON.stringify(srcUrl('index.ts'))};
export default definePlugin({
  name: 'stale-copy',
  config: Type.Object({ body: Type.Optional(Type.String()) }),
  create(config) {
    return {
      onRequest: async (request) => {
        offerStale(request, async () =>
          config.body === undefined
            ? undefined
            : { status: 200, headers: { 'content-type': 'text/plain', etag: '"v1"', 'x-request-id': 'stored-id', 'content-length': '999' }, body: config.body, storedAt: Date.now() - 120_000 },
        );
      },
    };
  },
});
`;

test('a static fallback answers when every target refuses', async (t) => {
  const refused = `http://127.0.0.1:${await closedPort()}`;
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [refused],
      `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    fallback: { status: 200, headers: { x-degraded: "yes" }, body: { items: [] } }\n`,
    ),
  });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/list`, { headers: { 'x-request-id': 'req-1' } });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-degraded'], 'yes');
  assert.equal(res.headers['x-gatehouse-fallback'], 'static');
  assert.equal(res.headers['x-request-id'], 'req-1');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(await res.body.json(), { items: [] });
});

test('a static fallback answers when the circuit is open, but never replaces the upstream\'s own answer', async (t) => {
  const origin = await startOrigin((_req, res) => {
    res.statusCode = 500;
    res.end('upstream says no');
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [origin.url],
      `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    fallback: { status: 503, body: "try again soon", headers: { retry-after: "30" } }\n`,
      '    circuitBreaker: { volumeThreshold: 1, resetTimeout: 1m }\n',
    ),
  });
  t.after(() => gw.close());
  const first = await request(`${gw.url}/api/x`);
  assert.equal(first.statusCode, 500);
  assert.equal(await first.body.text(), 'upstream says no');
  const second = await request(`${gw.url}/api/x`);
  assert.equal(second.statusCode, 503);
  assert.equal(second.headers['retry-after'], '30');
  assert.match(String(second.headers['content-type']), /^text\/plain/);
  assert.equal(await second.body.text(), 'try again soon');
  assert.equal(origin.seen.length, 1);
});

test('a timeout falls back only when the fallback lists it', async (t) => {
  const origin = await startOrigin(() => undefined);
  t.after(() => origin.close());
  const routes =
    `  - id: listed\n    match: { path: /listed/* }\n    upstream: { service: svc, timeout: 100ms }\n    fallback: { body: "late", on: [timeout] }\n` +
    `  - id: default\n    match: { path: /default/* }\n    upstream: { service: svc, timeout: 100ms }\n    fallback: { body: "late" }\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], routes) });
  t.after(() => gw.close());
  const listed = await request(`${gw.url}/listed/x`);
  assert.equal(listed.statusCode, 200);
  assert.equal(await listed.body.text(), 'late');
  const plain = await request(`${gw.url}/default/x`);
  assert.equal(plain.statusCode, 504);
  await plain.body.dump();
});

test('fallback cache: stale serves the copy a cache offered, with x-cache: STALE and Age', async (t) => {
  const refused = `http://127.0.0.1:${await closedPort()}`;
  const routes =
    `  - id: cached\n    match: { path: /cached/* }\n    upstream: { service: svc }\n    plugins: [ { stale-copy: { body: "yesterday's news" } } ]\n    fallback: { cache: stale }\n` +
    `  - id: nocopy\n    match: { path: /nocopy/* }\n    upstream: { service: svc }\n    plugins: [ stale-copy ]\n    fallback: { cache: stale, status: 200, body: "static instead" }\n` +
    `  - id: nothing\n    match: { path: /nothing/* }\n    upstream: { service: svc }\n    fallback: { cache: stale }\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([refused], routes), 'plugins/stale-copy.ts': STALE_PLUGIN });
  t.after(() => gw.close());

  const stale = await request(`${gw.url}/cached/page`, { headers: { 'x-request-id': 'now-1' } });
  assert.equal(stale.statusCode, 200);
  assert.equal(await stale.body.text(), "yesterday's news");
  assert.equal(stale.headers['x-cache'], 'STALE');
  assert.equal(stale.headers.etag, '"v1"');
  assert.equal(stale.headers['x-request-id'], 'now-1', 'the current request id, not the stored one');
  assert.ok(Number(stale.headers.age) >= 120);

  const noCopy = await request(`${gw.url}/nocopy/page`);
  assert.equal(noCopy.statusCode, 200);
  assert.equal(noCopy.headers['x-cache'], undefined);
  assert.equal(await noCopy.body.text(), 'static instead');

  const nothing = await request(`${gw.url}/nothing/page`);
  assert.equal(nothing.statusCode, 503);
  assert.equal(((await nothing.body.json()) as { code: string }).code, 'UPSTREAM_UNAVAILABLE');
});
