import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { startOrigin, type Origin } from '../../helpers/upstream.js';

async function setup(t: { after(fn: () => unknown): void }, cors: string, methods = '[GET, POST]'): Promise<{ gw: RunningGateway; origin: Origin }> {
  const origin = await startOrigin((_req, res) => {
    res.setHeader('access-control-allow-origin', 'https://upstream-says.example');
    res.setHeader('x-total', '7');
    res.end('ok');
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/*, methods: ${methods} }\n    upstream: { service: svc }\n    plugins:\n      - cors: ${cors}\n`),
  });
  t.after(() => gw.close());
  return { gw, origin };
}

async function preflight(url: string, origin: string, method = 'POST', headers?: string) {
  const res = await request(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, ...(headers ? { 'access-control-request-headers': headers } : {}) },
  });
  await res.body.dump();
  return res;
}

test('a preflight is answered at the gateway with 204 and never reaches the upstream, though the route lists only GET and POST', async (t) => {
  const { gw, origin } = await setup(t, '{ origins: ["https://app.example.com"], methods: [GET, POST], headers: [Authorization, Content-Type], credentials: true, maxAge: 10m }');
  const res = await preflight(`${gw.url}/api/orders`, 'https://app.example.com', 'POST', 'authorization, content-type');
  assert.equal(res.statusCode, 204);
  assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(res.headers['access-control-allow-methods'], 'GET, POST');
  assert.equal(res.headers['access-control-allow-headers'], 'Authorization, Content-Type');
  assert.equal(res.headers['access-control-allow-credentials'], 'true');
  assert.equal(res.headers['access-control-max-age'], '600');
  assert.match(String(res.headers.vary), /Origin/);
  assert.equal(origin.seen.length, 0);
});

test('origins: exact, wildcard subdomain (not the apex), and /regex/', async (t) => {
  const { gw } = await setup(t, '{ origins: ["https://app.example.com", "https://*.shop.test", "/^http:\\\\/\\\\/localhost:\\\\d+$/"] }');
  const allowed = async (o: string) => (await preflight(`${gw.url}/api/x`, o)).headers['access-control-allow-origin'];
  assert.equal(await allowed('https://app.example.com'), 'https://app.example.com');
  assert.equal(await allowed('https://eu.shop.test'), 'https://eu.shop.test');
  assert.equal(await allowed('https://a.b.shop.test'), 'https://a.b.shop.test');
  assert.equal(await allowed('http://localhost:5173'), 'http://localhost:5173');
  assert.equal(await allowed('https://shop.test'), undefined, 'the wildcard matches subdomains only');
  assert.equal(await allowed('http://eu.shop.test'), undefined, 'the scheme is part of the pattern');
  assert.equal(await allowed('https://evil-shop.test'), undefined);
  assert.equal(await allowed('https://app.example.com.evil.test'), undefined);
  assert.equal(await allowed('http://localhost:5173.evil.test'), undefined);
});

test('a disallowed origin gets a 204 without Access-Control-Allow-* headers', async (t) => {
  const { gw, origin } = await setup(t, '{ origins: ["https://app.example.com"] }');
  const res = await preflight(`${gw.url}/api/x`, 'https://evil.test');
  assert.equal(res.statusCode, 204);
  assert.equal(res.headers['access-control-allow-origin'], undefined);
  assert.equal(res.headers['access-control-allow-methods'], undefined);
  assert.equal(origin.seen.length, 0);
});

test('without `headers`, the preflight allows the headers it asks for; `*` without credentials answers *', async (t) => {
  const { gw } = await setup(t, '{ origins: ["*"] }');
  const res = await preflight(`${gw.url}/api/x`, 'https://any.test', 'GET', 'x-custom');
  assert.equal(res.headers['access-control-allow-origin'], '*');
  assert.equal(res.headers['access-control-allow-headers'], 'x-custom');
});

test('`*` with credentials reflects the origin (browsers refuse * with credentials)', async (t) => {
  const { gw } = await setup(t, '{ origins: ["*"], credentials: true }');
  const res = await preflight(`${gw.url}/api/x`, 'https://any.test');
  assert.equal(res.headers['access-control-allow-origin'], 'https://any.test');
  assert.equal(res.headers['access-control-allow-credentials'], 'true');
});

test('actual requests: the gateway sets Allow-Origin and Expose-Headers, replacing the upstream own; a disallowed origin gets none', async (t) => {
  const { gw, origin } = await setup(t, '{ origins: ["https://app.example.com"], exposeHeaders: [X-Total] }');
  const ok = await request(`${gw.url}/api/x`, { headers: { origin: 'https://app.example.com' } });
  assert.equal(await ok.body.text(), 'ok');
  assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(ok.headers['access-control-expose-headers'], 'X-Total');
  assert.match(String(ok.headers.vary), /Origin/);
  const bad = await request(`${gw.url}/api/x`, { headers: { origin: 'https://evil.test' } });
  await bad.body.dump();
  assert.equal(bad.statusCode, 200);
  assert.equal(bad.headers['access-control-allow-origin'], undefined);
  assert.equal(origin.seen.length, 2);
});

test('OPTIONS that is not a preflight is 405 on a route without OPTIONS, and proxied on a route that lists it', async (t) => {
  const { gw } = await setup(t, '{ origins: ["*"] }');
  const plain = await request(`${gw.url}/api/x`, { method: 'OPTIONS' });
  await plain.body.dump();
  assert.equal(plain.statusCode, 405);
  assert.match(String(plain.headers.allow), /GET/);

  const both = await setup(t, '{ origins: ["*"] }', '[GET, OPTIONS]');
  const proxied = await request(`${both.gw.url}/api/x`, { method: 'OPTIONS' });
  assert.equal(await proxied.body.text(), 'ok');
  assert.equal(both.origin.seen.length, 1);
});

test('a bad origin pattern is an error at load', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  await assert.rejects(
    startGateway({
      'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - cors: { origins: ["https://app.example.com/path"] }\n`),
    }),
    /must be scheme:\/\/host\[:port\]/,
  );
});
