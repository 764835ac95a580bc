/** RELIABILITY rows 22 and 23, scopes and required claims: time claims, issuer, audience, 403s. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { mint, nowSeconds } from '../../helpers/jwt.js';
import { startOrigin } from '../../helpers/upstream.js';
import { jwtRoutes } from './routes.js';

const SECRET = 'a-test-secret-that-is-32-bytes-long!!';
const sign = (claims: Record<string, unknown>, expiresIn?: number | null) => mint(claims, { alg: 'HS256', key: SECRET, expiresIn });

async function setup(t: import('node:test').TestContext) {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [origin.url],
      jwtRoutes({
        plain: { secret: SECRET },
        tolerant: { secret: SECRET, clockTolerance: '30s' },
        idp: { secret: SECRET, issuer: 'https://idp.example/', audience: ['orders', 'billing'] },
        scoped: { secret: SECRET, scopes: ['orders:read', 'orders:write'] },
        claimed: { secret: SECRET, requiredClaims: ['email', 'tenant'] },
      }),
    ),
  });
  t.after(() => gw.close());
  const send = async (path: string, token: string) => {
    const res = await request(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.body.json()) as { detail: string; code: string; status: number };
    return { status: res.statusCode, headers: res.headers, body };
  };
  return { origin, send, url: gw.url };
}

test('expired, not-yet-valid and beyond-tolerance tokens are 401; within tolerance passes', async (t) => {
  const { origin, send } = await setup(t);
  let res = await send('/plain', sign({ sub: 'a' }, -5));
  assert.equal(res.status, 401);
  assert.equal(res.body.detail, 'the token has expired');
  res = await send('/plain', sign({ sub: 'a', nbf: nowSeconds() + 60 }));
  assert.equal(res.status, 401);
  assert.equal(res.body.detail, 'the token is not valid yet (nbf)');
  res = await send('/tolerant', sign({ sub: 'a' }, -120));
  assert.equal(res.status, 401, 'expired 2 minutes ago is beyond a 30s tolerance');
  res = await send('/tolerant', sign({ sub: 'a', nbf: nowSeconds() + 120 }));
  assert.equal(res.status, 401, 'valid in 2 minutes is beyond a 30s tolerance');
  assert.equal(origin.seen.length, 0);
  res = await send('/tolerant', sign({ sub: 'a' }, -10));
  assert.equal(res.status, 200, 'expired 10s ago is within a 30s tolerance');
  res = await send('/tolerant', sign({ sub: 'a', nbf: nowSeconds() + 10 }));
  assert.equal(res.status, 200, 'valid in 10s is within a 30s tolerance');
});

test('a token verified (and cached) while valid is 401 once it has expired', async (t) => {
  const { origin, send } = await setup(t);
  // At least one whole second of validity left (exp is in whole seconds).
  const exp = nowSeconds() + 2;
  const token = sign({ sub: 'a', exp }, null);
  assert.equal((await send('/plain', token)).status, 200);
  assert.equal((await send('/plain', token)).status, 200);
  await sleep(Math.max(0, exp * 1000 - Date.now()) + 100);
  const res = await send('/plain', token);
  assert.equal(res.status, 401);
  assert.equal(res.body.detail, 'the token has expired');
  assert.equal(origin.seen.length, 2);
});

test('missing or wrong iss and aud are 401; a listed audience in an aud array passes', async (t) => {
  const { origin, send } = await setup(t);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ aud: 'orders' }, /no issuer/],
    [{ iss: 'https://idp.example/' }, /no audience/],
    [{ iss: 'https://evil.example/', aud: 'orders' }, /issuer \(iss\) is not accepted/],
    [{ iss: 'https://idp.example/', aud: 'payments' }, /audience \(aud\) is not accepted/],
    [{ iss: 'https://idp.example/', aud: ['payments', 'admin'] }, /audience \(aud\) is not accepted/],
    [{ iss: ['https://idp.example/'], aud: 'orders' }, /issuer \(iss\)/],
  ];
  for (const [claims, why] of cases) {
    const res = await send('/idp', sign({ sub: 'a', ...claims }));
    assert.equal(res.status, 401, JSON.stringify(claims));
    assert.match(res.body.detail, why);
  }
  assert.equal(origin.seen.length, 0);
  assert.equal((await send('/idp', sign({ sub: 'a', iss: 'https://idp.example/', aud: ['payments', 'billing'] }))).status, 200);
  assert.equal((await send('/idp', sign({ sub: 'a', iss: 'https://idp.example/', aud: 'orders' }))).status, 200);
});

test('missing scopes are 403 with insufficient_scope; scope string and scp list both grant', async (t) => {
  const { origin, send } = await setup(t);
  let res = await send('/scoped', sign({ sub: 'a', scope: 'orders:read profile' }));
  assert.equal(res.status, 403);
  assert.equal(res.body.code, 'FORBIDDEN');
  assert.match(res.body.detail, /lacks the scope orders:write/);
  assert.equal(res.headers['www-authenticate'], 'Bearer realm="gatehouse", error="insufficient_scope", error_description="the token lacks the scope orders:write", scope="orders:read orders:write"');
  res = await send('/scoped', sign({ sub: 'a' }));
  assert.equal(res.status, 403);
  res = await send('/scoped', sign({ sub: 'a', scope: 'orders:readorders:write' }));
  assert.equal(res.status, 403, 'scopes are space-separated tokens, not substrings');
  assert.equal(origin.seen.length, 0);
  assert.equal((await send('/scoped', sign({ sub: 'a', scope: 'orders:write orders:read' }))).status, 200);
  assert.equal((await send('/scoped', sign({ sub: 'a', scp: ['orders:read', 'orders:write'] }))).status, 200);
  assert.equal(origin.seen.length, 2);
});

test('a missing required claim is 403', async (t) => {
  const { origin, send } = await setup(t);
  const res = await send('/claimed', sign({ sub: 'a', email: 'a@example.com' }));
  assert.equal(res.status, 403);
  assert.match(res.body.detail, /required claim tenant/);
  assert.equal(origin.seen.length, 0);
  assert.equal((await send('/claimed', sign({ sub: 'a', email: 'a@example.com', tenant: 't1' }))).status, 200);
});

test('no token is 401 with a bare Bearer challenge; another scheme or a broken Bearer header is 401 invalid_request', async (t) => {
  const { origin, url } = await setup(t);
  const cases: [Record<string, string>, string][] = [
    [{}, 'Bearer realm="gatehouse"'],
    [{ authorization: 'Basic YTpi' }, 'Bearer realm="gatehouse"'],
    [{ authorization: 'Bearer' }, 'Bearer realm="gatehouse", error="invalid_request"'],
    [{ authorization: 'Bearer a b' }, 'Bearer realm="gatehouse", error="invalid_request"'],
  ];
  for (const [headers, challenge] of cases) {
    const res = await request(`${url}/plain`, { headers });
    const body = (await res.body.json()) as { code: string; requestId: string };
    assert.equal(res.statusCode, 401, JSON.stringify(headers));
    assert.equal(body.code, 'UNAUTHENTICATED');
    assert.equal(body.requestId, res.headers['x-request-id']);
    assert.ok(String(res.headers['www-authenticate']).startsWith(challenge), String(res.headers['www-authenticate']));
  }
  assert.equal(origin.seen.length, 0);
});
