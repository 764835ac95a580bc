/** RELIABILITY rows 21 and 24: kids that must not cause lookups, refetch cooldown, rotation, and an IdP that is down, slow or sends garbage. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startJwksServer, type JwksServer } from '../../helpers/idp.js';
import { mint, rsaKey, type SigningKey } from '../../helpers/jwt.js';
import { startOrigin } from '../../helpers/upstream.js';
import { jwtRoutes } from './routes.js';

async function setup(t: TestContext, jwksConfig: Record<string, unknown>, keys?: (k: SigningKey) => Record<string, unknown>[]) {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const key = rsaKey();
  const jwks = await startJwksServer(keys ? keys(key) : [{ ...key.jwk, kid: 'k1', alg: 'RS256', use: 'sig' }]);
  t.after(() => jwks.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], jwtRoutes({ r: { jwksUri: jwks.url, jwks: jwksConfig } })) });
  t.after(() => gw.close());
  const send = async (token: string) => {
    const res = await request(`${gw.url}/r`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.body.json()) as { detail: string; code: string };
    return { status: res.statusCode, body };
  };
  const token = (kid = 'k1', k: SigningKey = key) => mint({ sub: 'alice' }, { alg: 'RS256', key: k, kid });
  // Tokens naming a kid the set does not have: never verified, so any signature does.
  const base = token();
  const withKid = (kid: string) => `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid })).toString('base64url')}${base.slice(base.indexOf('.'))}`;
  return { origin, key, jwks, gw, send, token, withKid };
}

test('hostile kids (path, SQL, URL, huge, control characters) are 401 and fetch nothing within the cooldown', async (t) => {
  const { origin, jwks, send, token, withKid } = await setup(t, { cooldown: '1h' });
  assert.equal((await send(token())).status, 200);
  assert.equal(jwks.fetches, 1);
  for (const kid of ['../../dev/null', '/etc/passwd', "' OR 1=1 --", 'http://169.254.169.254/latest/meta-data/', 'k'.repeat(5000), 'a\u0000b', '']) {
    const res = await send(withKid(kid));
    assert.equal(res.status, 401, JSON.stringify(kid.slice(0, 40)));
    assert.equal(res.body.code, 'UNAUTHENTICATED');
  }
  assert.equal(jwks.fetches, 1, 'no refetch for any of them');
  assert.equal(origin.seen.length, 1);
});

test('a flood of random unknown kids within the cooldown refetches nothing', async (t) => {
  const { origin, jwks, send, token, withKid } = await setup(t, { cooldown: '1h' });
  assert.equal((await send(token())).status, 200);
  const burst = await Promise.all(Array.from({ length: 100 }, () => send(withKid(randomUUID()))));
  for (let i = 0; i < 50; i++) assert.equal((await send(withKid(randomUUID()))).status, 401);
  assert.ok(burst.every((r) => r.status === 401 && /unknown key/.test(r.body.detail)));
  assert.equal(jwks.fetches, 1);
  assert.equal(origin.seen.length, 1);
});

test('once the cooldown has passed, a flood of random kids shares exactly one refetch', async (t) => {
  const { origin, jwks, send, token, withKid } = await setup(t, { cooldown: '2500ms' });
  assert.equal((await send(token())).status, 200);
  assert.equal(jwks.fetches, 1);
  await sleep(2600);
  const started = Date.now();
  const wave = await Promise.all(Array.from({ length: 100 }, () => send(withKid(randomUUID()))));
  for (let i = 0; i < 50; i++) assert.equal((await send(withKid(randomUUID()))).status, 401);
  assert.ok(wave.every((r) => r.status === 401));
  // One refetch per started cooldown period (exactly one unless this machine took > 2.5s for 150 requests).
  const periods = 1 + Math.floor((Date.now() - started) / 2500);
  assert.ok(jwks.fetches >= 2 && jwks.fetches <= 1 + periods, `${jwks.fetches} fetches over ${periods} cooldown period(s)`);
  assert.equal((await send(token())).status, 200, 'the known key still works');
  assert.equal(origin.seen.length, 2);
});

test('key rotation: a token with a new kid is picked up by one refetch; a removed key stops working', async (t) => {
  const { jwks, send, token, key } = await setup(t, { cooldown: 0 });
  assert.equal((await send(token())).status, 200);
  const next = rsaKey();
  jwks.keys = [{ ...next.jwk, kid: 'k2' }];
  assert.equal((await send(token('k2', next))).status, 200, 'new kid picked up');
  assert.equal(jwks.fetches, 2);
  const old = await send(token('k1', key));
  assert.equal(old.status, 401, 'the rotated-out key is gone');
  assert.match(old.body.detail, /unknown key/);
});

test('the set is refreshed in the background once older than jwks.refresh', async (t) => {
  const { jwks, send, token } = await setup(t, { refresh: '200ms', cooldown: '100ms' });
  assert.equal((await send(token())).status, 200);
  assert.equal(jwks.fetches, 1);
  await sleep(300);
  assert.equal((await send(token())).status, 200, 'served from the old set while refreshing');
  for (let i = 0; i < 100 && jwks.fetches < 2; i++) await sleep(50);
  assert.equal(jwks.fetches, 2);
});

for (const [name, breakIt] of [
  ['stopped (connection refused)', (j: JwksServer) => j.stop()],
  ['answering 503', async (j: JwksServer) => void (j.mode = 'error')],
  ['sending truncated JSON', async (j: JwksServer) => void (j.mode = 'garbage')],
  ['sending a set with no usable key', async (j: JwksServer) => void (j.mode = 'not-a-set')],
  ['hanging past the timeout', async (j: JwksServer) => void (j.mode = 'hang')],
] as const) {
  test(`IdP ${name}: cached keys keep serving through refreshes`, async (t) => {
    const { origin, jwks, send, token } = await setup(t, { cooldown: 0, refresh: 0, timeout: '200ms' });
    assert.equal((await send(token())).status, 200);
    await breakIt(jwks);
    for (let i = 0; i < 3; i++) {
      // An unknown kid forces a refetch (cooldown 0), which fails; the known key keeps working.
      assert.equal((await send(token('rotated'))).status, 401);
      assert.equal((await send(token())).status, 200, `request ${i} with the cached key`);
    }
    assert.equal(origin.seen.length, 4);
  });
}

test('cold cache and IdP answering 503, garbage or hanging: 503 UPSTREAM_UNAVAILABLE, nothing forwarded; recovers with the IdP', async (t) => {
  const { origin, jwks, send, token } = await setup(t, { cooldown: 0, timeout: '200ms' });
  for (const mode of ['error', 'garbage', 'not-a-set', 'hang'] as const) {
    jwks.mode = mode; // cooldown 0: every cold lookup may retry
    const res = await send(token());
    assert.equal(res.status, 503, mode);
    assert.equal(res.body.code, 'UPSTREAM_UNAVAILABLE');
    assert.match(res.body.detail, /signing keys/);
  }
  assert.equal(origin.seen.length, 0);
  jwks.mode = 'ok';
  assert.equal((await send(token())).status, 200);
});

test('cold cache and IdP failing: a flood of requests fetches at most once per second', async (t) => {
  const { origin, jwks, send, token } = await setup(t, { cooldown: '1h' });
  jwks.mode = 'error';
  const started = Date.now();
  const all = await Promise.all(Array.from({ length: 50 }, () => send(token())));
  for (let i = 0; i < 20; i++) assert.equal((await send(token())).status, 503);
  const seconds = Math.ceil((Date.now() - started) / 1000);
  assert.ok(all.every((r) => r.status === 503));
  assert.ok(jwks.fetches >= 1 && jwks.fetches <= seconds + 1, `${jwks.fetches} fetches in ${seconds}s for 70 requests`);
  assert.equal(origin.seen.length, 0);
});

test('cold cache and IdP refusing connections: 503', async (t) => {
  const { origin, jwks, send, token } = await setup(t, { cooldown: '1h' });
  await jwks.stop();
  const res = await send(token());
  assert.equal(res.status, 503);
  assert.equal(origin.seen.length, 0);
});

test('JWKS entries that are symmetric, for encryption, or of a mismatched alg are ignored', async (t) => {
  const { send, token, key } = await setup(t, { cooldown: '1h' }, (k) => [
    { kty: 'oct', kid: 'sym', k: Buffer.from('a-test-secret-that-is-32-bytes-long!!').toString('base64url') },
    { ...k.jwk, kid: 'enc', use: 'enc' },
    { ...k.jwk, kid: 'es', alg: 'ES256' },
    { ...k.jwk, kid: 'good' },
  ]);
  assert.equal((await send(token('good'))).status, 200);
  assert.equal((await send(mint({ sub: 'x' }, { alg: 'HS256', key: 'a-test-secret-that-is-32-bytes-long!!', kid: 'sym' }))).status, 401);
  assert.equal((await send(token('enc', key))).status, 401);
  assert.equal((await send(token('es', key))).status, 401);
});

test('a token without kid uses the only key that fits its algorithm', async (t) => {
  const { send, key } = await setup(t, { cooldown: '1h' });
  assert.equal((await send(mint({ sub: 'x' }, { alg: 'RS256', key }))).status, 200);
});

test('a reload while the IdP is down keeps the last good keys', async (t) => {
  const { jwks, gw, send, token } = await setup(t, { cooldown: 0, timeout: '200ms' });
  assert.equal((await send(token())).status, 200);
  await jwks.stop();
  const result = await gw.gateway.reload();
  assert.equal(result.ok, true);
  assert.ok(gw.gateway.generation() >= 2);
  assert.equal((await send(token())).status, 200, 'the new generation verifies with the keys fetched before the outage');
});
