import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway, type RunningGateway } from './helpers/gateway.js';
import { rawRequest } from './helpers/raw-client.js';
import { startOrigin, type Origin } from './helpers/upstream.js';

async function setup(t: { after: (fn: () => Promise<void>) => void }, routes: string, settings?: string): Promise<{ gw: RunningGateway; origin: Origin }> {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const files: Record<string, string> = { 'routes.d/a.yaml': routeFile([origin.url], routes) };
  if (settings) files['gatehouse.yaml'] = settings;
  const gw = await startGateway(files);
  t.after(() => gw.close());
  return { gw, origin };
}

async function json(res: Awaited<ReturnType<typeof request>>): Promise<Record<string, unknown>> {
  return (await res.body.json()) as Record<string, unknown>;
}

const ROUTES = `  - id: static
    match: { path: /static, methods: [GET] }
    upstream: { service: svc }
  - id: param
    match: { path: /users/:id, methods: [GET, DELETE] }
    upstream: { service: svc, rewrite: "/v2/people/{id}" }
  - id: wild
    match: { path: /files/* }
    upstream: { service: svc, rewrite: "/store/{*}" }
  - id: exact-host
    match: { path: /h, host: api.example.com }
    upstream: { service: svc, rewrite: /exact }
  - id: wildcard-host
    match: { path: /h, host: "*.example.com" }
    upstream: { service: svc, rewrite: /wildcard }
  - id: v2
    match: { path: /versioned, headers: { x-api-version: "2" } }
    upstream: { service: svc, rewrite: /two }
  - id: plain
    match: { path: /versioned }
    upstream: { service: svc, rewrite: /plain }
  - id: only-v3
    match: { path: /v3only, headers: { x-api-version: "3" } }
    upstream: { service: svc }
`;

test('routes by static path, :param and * with rewrite', async (t) => {
  const { gw } = await setup(t, ROUTES);
  assert.equal((await json(await request(`${gw.url}/static`))).url, '/static');
  assert.equal((await json(await request(`${gw.url}/users/42?x=1`))).url, '/v2/people/42?x=1');
  assert.equal((await json(await request(`${gw.url}/users/a%2Fb`))).url, '/v2/people/a%2Fb');
  assert.equal((await json(await request(`${gw.url}/files/a/b/c.txt`))).url, '/store/a/b/c.txt');
});

test('host match: exact beats wildcard; wildcard matches subdomains only; unknown host is 404', async (t) => {
  const { gw } = await setup(t, ROUTES);
  const at = async (host: string) => request(`${gw.url}/h`, { headers: { host } });
  assert.equal((await json(await at('api.example.com'))).url, '/exact');
  assert.equal((await json(await at('API.example.com:8080'))).url, '/exact');
  assert.equal((await json(await at('shop.example.com'))).url, '/wildcard');
  assert.equal((await json(await at('a.b.example.com'))).url, '/wildcard');
  const bare = await at('example.com');
  assert.equal(bare.statusCode, 404);
  assert.equal((await json(bare)).code, 'ROUTE_NOT_FOUND');
  const other = await at('evil.test');
  assert.equal(other.statusCode, 404);
  await other.body.dump();
});

test('header match picks the constrained route; a failed header match is 404', async (t) => {
  const { gw } = await setup(t, ROUTES);
  assert.equal((await json(await request(`${gw.url}/versioned`, { headers: { 'x-api-version': '2' } }))).url, '/two');
  assert.equal((await json(await request(`${gw.url}/versioned`, { headers: { 'x-api-version': '1' } }))).url, '/plain');
  assert.equal((await json(await request(`${gw.url}/versioned`))).url, '/plain');
  const res = await request(`${gw.url}/v3only`, { headers: { 'x-api-version': '2' } });
  assert.equal(res.statusCode, 404);
  await res.body.dump();
});

test('404 and 405 are problem+json with the request id; 405 lists Allow', async (t) => {
  const { gw, origin } = await setup(t, ROUTES);
  const nf = await request(`${gw.url}/nothing/here`, { headers: { 'x-request-id': 'req-404' } });
  assert.equal(nf.statusCode, 404);
  assert.match(String(nf.headers['content-type']), /^application\/problem\+json/);
  const body = await json(nf);
  assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'requestId', 'status', 'title', 'type']);
  assert.equal(body.requestId, 'req-404');
  assert.equal(nf.headers['x-request-id'], 'req-404');
  const na = await request(`${gw.url}/users/1`, { method: 'POST', body: 'x' });
  assert.equal(na.statusCode, 405);
  assert.equal(na.headers.allow, 'GET, HEAD, DELETE');
  assert.equal((await json(na)).code, 'METHOD_NOT_ALLOWED');
  assert.equal(origin.seen.length, 0);
});

test('GET routes answer HEAD', async (t) => {
  const { gw, origin } = await setup(t, ROUTES);
  const res = await request(`${gw.url}/static`, { method: 'HEAD' });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  assert.equal(origin.seen[0]?.method, 'HEAD');
});

test('traversal is normalised before matching, so /public/../admin takes the admin route', async (t) => {
  const { gw, origin } = await setup(
    t,
    `  - id: public
    match: { path: /public/* }
    upstream: { service: svc }
  - id: admin
    match: { path: /admin }
    upstream: { service: svc, rewrite: /the-admin }
`,
  );
  for (const p of ['/public/../admin', '/public/%2e%2e/admin', '/public/.%2e/admin', '//admin', '/%61dmin']) {
    const res = await rawRequest(gw.gateway.address().port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(res.status, 200, p);
    assert.match(res.body, /"url":"\/the-admin"/, p);
  }
  assert.ok(origin.seen.every((s) => s.url === '/the-admin'));
});

test('bad request targets are 400 and never forwarded', async (t) => {
  const { gw, origin } = await setup(t, `  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`);
  const port = gw.gateway.address().port;
  for (const p of ['/a%00b', '/a\\..\\b', '/x/%5C..%5Cadmin', '/a%zz']) {
    const res = await rawRequest(port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(res.status, 400, p);
    assert.equal(JSON.parse(res.body).code, 'BAD_REQUEST');
  }
  const twoHosts = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n');
  assert.equal(twoHosts.status, 400);
  const longUrl = await rawRequest(port, `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  assert.equal(longUrl.status, 414);
  const many = Array.from({ length: 120 }, (_, i) => `x-h${i}: v`).join('\r\n');
  const manyHeaders = await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\n${many}\r\nConnection: close\r\n\r\n`);
  assert.equal(manyHeaders.status, 431);
  const huge = await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.equal(huge.status, 431);
  const smuggle = await rawRequest(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.equal(smuggle.status, 400);
  assert.equal(origin.seen.length, 0);
});

test('absolute-form targets are routed by path; their host is never dialled', async (t) => {
  const { gw, origin } = await setup(t, `  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`);
  const res = await rawRequest(gw.gateway.address().port, 'GET http://169.254.169.254/latest?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(res.status, 200);
  assert.equal(origin.seen[0]?.url, '/latest?x=1');
});
