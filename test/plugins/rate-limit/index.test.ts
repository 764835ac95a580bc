import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startOrigin } from '../../helpers/upstream.js';

const SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../src/index.ts');

/** A custom plugin standing in for jwt/api-key: claims and consumer from test headers. */
const FAKE_AUTH = `import { definePlugin, stateOf, Type } from ${JSON.stringify(SRC)};
export default definePlugin({
  name: 'fake-auth',
  config: Type.Object({}),
  create() {
    return {
      onRequest: async (request) => {
        const s = stateOf(request);
        const sub = request.headers['x-test-sub'];
        if (typeof sub === 'string') s.jwt = { sub, org: { id: 'org-' + sub } };
        const c = request.headers['x-test-consumer'];
        if (typeof c === 'string') s.consumer = c;
      },
    };
  },
});
`;

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

test('the request over the limit is 429 RATE_LIMITED problem+json with Retry-After; RateLimit-* on every response', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 3, window: 1h }\n`),
  });
  t.after(() => gw.close());
  const seen: { status: number; remaining: unknown }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await get(`${gw.url}/api/x`);
    seen.push({ status: r.status, remaining: r.headers['ratelimit-remaining'] });
    assert.equal(r.headers['ratelimit-limit'], '3');
    assert.ok(Number(r.headers['ratelimit-reset']) > 0);
  }
  assert.deepEqual(seen, [
    { status: 200, remaining: '2' },
    { status: 200, remaining: '1' },
    { status: 200, remaining: '0' },
  ]);
  const refused = await get(`${gw.url}/api/x`);
  assert.equal(refused.status, 429);
  assert.match(String(refused.headers['content-type']), /^application\/problem\+json/);
  const body = JSON.parse(refused.text) as { code: string; status: number; requestId: string; detail: string };
  assert.equal(body.code, 'RATE_LIMITED');
  assert.match(body.detail, /limit of 3 requests per 1h reached/);
  assert.equal(body.status, 429);
  assert.equal(body.requestId, refused.headers['x-request-id']);
  assert.ok(Number(refused.headers['retry-after']) >= 1);
  assert.equal(refused.headers['ratelimit-limit'], '3');
  assert.equal(refused.headers['ratelimit-remaining'], '0');
  assert.equal(origin.seen.length, 3, 'the refused request never reached the upstream');
});

test('the gateway RateLimit-* headers replace ones the upstream sends', async (t) => {
  const origin = await startOrigin((_req, res) => {
    res.setHeader('ratelimit-limit', '999');
    res.setHeader('ratelimit-remaining', '999');
    res.end('ok');
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 5, window: 1h }\n`),
  });
  t.after(() => gw.close());
  const r = await get(`${gw.url}/api/x`);
  assert.equal(r.headers['ratelimit-limit'], '5');
  assert.equal(r.headers['ratelimit-remaining'], '4');
});

test('each route counts separately', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const plugin = `    plugins:\n      - rate-limit: { limit: 2, window: 1h }\n`;
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [origin.url],
      `  - id: a\n    match: { path: /a }\n    upstream: { service: svc }\n${plugin}  - id: b\n    match: { path: /b }\n    upstream: { service: svc }\n${plugin}`,
    ),
  });
  t.after(() => gw.close());
  const statuses = [];
  for (const p of ['/a', '/a', '/b', '/b', '/a', '/b']) statuses.push((await get(`${gw.url}${p}`)).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
});

test('rotating spoofed X-Forwarded-For and path variants stay one bucket (trustProxy off)', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 4, window: 1h, by: ip }\n`),
  });
  t.after(() => gw.close());
  const paths = ['/api/x', '/api//x', '/%61pi/x', '/api/x/', '/api/./x', '/api/y/../x'];
  const statuses = [];
  for (let i = 0; i < paths.length; i++) {
    const r = await get(`${gw.url}${paths[i]}`, { 'x-forwarded-for': `10.0.0.${i}`, forwarded: `for=10.1.0.${i}` });
    statuses.push(r.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
  // Another case is another path: no route, so nothing is counted or forwarded.
  assert.equal((await get(`${gw.url}/API/x`, { 'x-forwarded-for': '10.0.0.99' })).status, 404);
  assert.equal(origin.seen.length, 4);
});

test('by: header:NAME gives each header value its own bucket; a missing header counts by ip', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 1, window: 1h, by: "header:x-tenant" }\n`),
  });
  t.after(() => gw.close());
  const s = async (h: Record<string, string>) => (await get(`${gw.url}/api/x`, h)).status;
  assert.equal(await s({ 'x-tenant': 'a' }), 200);
  assert.equal(await s({ 'x-tenant': 'b' }), 200);
  assert.equal(await s({ 'x-tenant': 'a' }), 429);
  assert.equal(await s({}), 200);
  assert.equal(await s({}), 429);
});

test('by: jwt:CLAIM (nested) and consumer read the request state an auth plugin filled; a list combines keys', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'plugins/fake-auth.ts': FAKE_AUTH,
    'routes.d/a.yaml': routeFile(
      [origin.url],
      `  - id: j\n    match: { path: /j }\n    upstream: { service: svc }\n    plugins:\n      - fake-auth\n      - rate-limit: { limit: 1, window: 1h, by: jwt:org.id }\n` +
        `  - id: c\n    match: { path: /c }\n    upstream: { service: svc }\n    plugins:\n      - fake-auth\n      - rate-limit: { limit: 1, window: 1h, by: [consumer, "header:x-env"] }\n`,
    ),
  });
  t.after(() => gw.close());
  const s = async (p: string, h: Record<string, string>) => (await get(`${gw.url}${p}`, h)).status;
  assert.equal(await s('/j', { 'x-test-sub': 'alice' }), 200);
  assert.equal(await s('/j', { 'x-test-sub': 'bob' }), 200);
  assert.equal(await s('/j', { 'x-test-sub': 'alice' }), 429);

  assert.equal(await s('/c', { 'x-test-consumer': 'shop', 'x-env': 'prod' }), 200);
  assert.equal(await s('/c', { 'x-test-consumer': 'shop', 'x-env': 'test' }), 200);
  assert.equal(await s('/c', { 'x-test-consumer': 'blog', 'x-env': 'prod' }), 200);
  assert.equal(await s('/c', { 'x-test-consumer': 'shop', 'x-env': 'prod' }), 429);
});

test('a config reload keeps the in-memory counts', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const routes = (extra: string) =>
    routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 2, window: 1h }\n${extra}`);
  const gw = await startGateway({ 'routes.d/a.yaml': routes('') });
  t.after(() => gw.close());
  assert.equal((await get(`${gw.url}/api/x`)).status, 200);
  assert.equal((await get(`${gw.url}/api/x`)).status, 200);
  await gw.dir.write('routes.d/a.yaml', routes(`  - id: other\n    match: { path: /other }\n    upstream: { service: svc }\n`));
  const reloaded = await gw.gateway.reload();
  assert.equal(reloaded.ok, true);
  assert.equal((await get(`${gw.url}/other`)).status, 200, 'the new config serves');
  assert.equal((await get(`${gw.url}/api/x`)).status, 429);
});

test('a bad rate-limit config is an error at load', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  await assert.rejects(
    startGateway({
      'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 0, by: cookie }\n`),
    }),
    (err: Error & { issues?: { path: string; message: string }[] }) => {
      const text = JSON.stringify(err.issues);
      assert.match(text, /limit/);
      assert.match(text, /must be ip, route, consumer, header:NAME or jwt:CLAIM/);
      return true;
    },
  );
});

test('concurrent requests never pass above the limit', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 10, window: 1h, algorithm: sliding-window }\n`),
  });
  t.after(() => gw.close());
  const statuses = await Promise.all(Array.from({ length: 40 }, () => get(`${gw.url}/api/x`).then((r) => r.status)));
  assert.equal(statuses.filter((s) => s === 200).length, 10);
  assert.equal(statuses.filter((s) => s === 429).length, 30);
  assert.equal(origin.seen.length, 10);
});

test("the upstream's own RateLimit-* headers never replace the gateway's; its other headers and body stream through", async (t) => {
  const origin = await startOrigin((_req, res) => {
    res.setHeader('ratelimit-limit', '999');
    res.setHeader('ratelimit-remaining', '998');
    res.setHeader('x-upstream', 'kept');
    res.write('part one, ');
    setTimeout(() => res.end('part two'), 5);
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: upstream-headers\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 5, window: 1h }\n`),
  });
  t.after(() => gw.close());
  const r = await get(`${gw.url}/api/x`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['ratelimit-limit'], '5');
  assert.equal(r.headers['ratelimit-remaining'], '4');
  assert.equal(r.headers['x-upstream'], 'kept');
  assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(r.text, 'part one, part two');
});
