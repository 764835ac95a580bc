/**
 * A config whose routes have no hooks of their own is served by one catch-all Fastify route and
 * the route table (src/table-dispatch.ts): what users see is the same as with a Fastify route
 * per config route (test/app.test.ts and test/observability/ run through it too).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { routeFile, startGateway } from './helpers/gateway.js';
import { startOrigin } from './helpers/upstream.js';

const PLAIN = `  - id: items
    match: { path: /items/:id, methods: [GET, POST] }
    upstream: { service: svc, rewrite: "/store/{id}" }
  - id: files
    match: { path: /files/* }
    upstream: { service: svc }
`;

async function setup(t: { after: (fn: () => Promise<void>) => void }, routes: string, settings = 'admin: { enabled: false }\nserver: { bodyLimit: 1kb }\n') {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const gw = await startGateway({ 'gatehouse.yaml': settings, 'routes.d/a.yaml': routeFile([origin.url], routes) }, { logger });
  t.after(() => gw.close());
  return { gw, origin, lines };
}

test('routes without hooks share one Fastify route; a route with a plugin keeps one per route', async (t) => {
  const plain = await setup(t, PLAIN);
  assert.equal(plain.gw.gateway.app.app.hasRoute({ method: 'GET', url: '/*' }), true);
  assert.equal(plain.gw.gateway.app.app.hasRoute({ method: 'GET', url: '/items/:id' }), false);
  const hooked = await setup(t, `${PLAIN}  - id: tagged\n    match: { path: /tagged }\n    upstream: { service: svc }\n    plugins:\n      - headers: { response: { set: { x-tag: "1" } } }\n`);
  assert.equal(hooked.gw.gateway.app.app.hasRoute({ method: 'GET', url: '/items/:id' }), true);
  assert.equal(hooked.gw.gateway.app.app.hasRoute({ method: 'GET', url: '/*' }), false);
});

test('the body limit applies to requests a route takes; one no route takes is 404 whatever its size', async (t) => {
  const { gw, origin } = await setup(t, PLAIN);
  const big = 'x'.repeat(2048);
  const over = await request(`${gw.url}/items/7`, { method: 'POST', body: big, headers: { 'content-type': 'text/plain' } });
  assert.equal(over.statusCode, 413);
  assert.equal(((await over.body.json()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
  const nowhere = await request(`${gw.url}/nothing`, { method: 'POST', body: big, headers: { 'content-type': 'text/plain' } });
  assert.equal(nowhere.statusCode, 404);
  assert.equal(((await nowhere.body.json()) as { code: string }).code, 'ROUTE_NOT_FOUND');
  const ok = await request(`${gw.url}/items/7`, { method: 'POST', body: 'small', headers: { 'content-type': 'text/plain' } });
  assert.equal(ok.statusCode, 200);
  await ok.body.dump();
  assert.deepEqual(origin.seen.map((s) => `${s.method} ${s.url}`), ['POST /store/7']);
});

test('the access log names the route that served, or none', async (t) => {
  const { gw, lines } = await setup(t, PLAIN);
  await (await request(`${gw.url}/items/3`, { method: 'POST', body: 'a', headers: { 'content-type': 'text/plain' } })).body.dump();
  await (await request(`${gw.url}/files/a/b.css`, { method: 'HEAD' })).body.dump();
  await (await request(`${gw.url}/items/3`, { method: 'DELETE' })).body.dump();
  await (await request(`${gw.url}/missing`)).body.dump();
  await gw.close();
  const served = lines
    .map((l) => JSON.parse(l) as { msg?: string; route?: string | null; method?: string; status?: number })
    .filter((l) => l.msg === 'request')
    .map((l) => `${l.method} ${l.status} ${l.route}`);
  assert.deepEqual(served, ['POST 200 items', 'HEAD 200 files', 'DELETE 405 null', 'GET 404 null']);
});
