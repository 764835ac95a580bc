/** RELIABILITY rows 19, 20, 23 (array payload) and 25: forged, unsigned, confused and oversized tokens are 401 and reach nothing. */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startJwksServer } from '../../helpers/idp.js';
import { mint, rsaKey, tamper, unsigned } from '../../helpers/jwt.js';
import { startOrigin } from '../../helpers/upstream.js';
import { jwtRoutes } from './routes.js';

const SECRET = 'a-test-secret-that-is-32-bytes-long!!';

async function setup(t: import('node:test').TestContext) {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const rsa = rsaKey();
  const jwks = await startJwksServer([{ ...rsa.jwk, kid: 'k1' }]);
  t.after(() => jwks.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], jwtRoutes({ pem: { publicKey: rsa.publicPem }, jwks: { jwksUri: jwks.url }, hs: { secret: SECRET } })),
  });
  t.after(() => gw.close());
  const send = async (path: string, token: string) => {
    const res = await request(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: text.startsWith('{') ? (JSON.parse(text) as { detail: string; code: string }) : { detail: text, code: '' } };
  };
  return { origin, rsa, jwks, gw, send };
}

test('alg none, NONE and None, and an empty signature are 401 on every key kind', async (t) => {
  const { origin, rsa, send } = await setup(t);
  for (const path of ['/pem', '/jwks', '/hs']) {
    for (const alg of ['none', 'NONE', 'None', 'nOnE']) {
      const res = await send(path, unsigned({ sub: 'admin' }, alg));
      assert.equal(res.status, 401, `${path} ${alg}`);
      assert.equal(res.body.code, 'UNAUTHENTICATED');
    }
    // A real header claiming RS256 with the signature cut off.
    const real = mint({ sub: 'x' }, { alg: path === '/hs' ? 'HS256' : 'RS256', key: path === '/hs' ? SECRET : rsa, kid: 'k1' });
    const res = await send(path, `${real.slice(0, real.lastIndexOf('.'))}.`);
    assert.equal(res.status, 401, `${path} empty signature`);
  }
  assert.equal(origin.seen.length, 0);
});

test('a tampered payload with the original signature is 401 (bad signature)', async (t) => {
  const { origin, rsa, send } = await setup(t);
  for (const [path, token] of [
    ['/pem', mint({ sub: 'alice', role: 'user' }, { alg: 'RS256', key: rsa })],
    ['/jwks', mint({ sub: 'alice' }, { alg: 'RS256', key: rsa, kid: 'k1' })],
    ['/hs', mint({ sub: 'alice' }, { alg: 'HS256', key: SECRET })],
  ] as const) {
    assert.equal((await send(path, token)).status, 200, `${path} untouched`);
    const res = await send(path, tamper(token, { sub: 'admin', role: 'admin' }));
    assert.equal(res.status, 401, path);
    assert.match(res.body.detail, /signature is invalid/);
  }
  assert.equal(origin.seen.length, 3, 'only the three untouched tokens got through');
});

test('HS256 signed with the RSA public key as secret (PEM, PKCS#1, JWK JSON) is 401', async (t) => {
  const { origin, rsa, send } = await setup(t);
  const pkcs1 = createPublicKey(rsa.publicPem).export({ type: 'pkcs1', format: 'pem' }) as string;
  const jwkJson = JSON.stringify(rsa.jwk);
  const jwkWithKid = JSON.stringify({ ...rsa.jwk, kid: 'k1' });
  for (const secret of [rsa.publicPem, rsa.publicPem.trim(), pkcs1, jwkJson, jwkWithKid]) {
    for (const path of ['/pem', '/jwks']) {
      const res = await send(path, mint({ sub: 'admin' }, { alg: 'HS256', key: secret, kid: 'k1' }));
      assert.equal(res.status, 401, `${path} with ${secret.slice(0, 30)}`);
      assert.match(res.body.detail, /algorithm "HS256" is not accepted/);
      assert.match(String(res.headers['www-authenticate']), /^Bearer realm="gatehouse", error="invalid_token"/);
    }
  }
  assert.equal(origin.seen.length, 0);
});

test('an RS256 token is refused by a secret route (no downgrade the other way)', async (t) => {
  const { origin, rsa, send } = await setup(t);
  const res = await send('/hs', mint({ sub: 'x' }, { alg: 'RS256', key: rsa }));
  assert.equal(res.status, 401);
  assert.equal(origin.seen.length, 0);
});

test('a payload that is a JSON array or a string is 401', async (t) => {
  const { origin, rsa, send } = await setup(t);
  for (const payload of [['sub', 'admin'], 'admin', 42, null]) {
    assert.equal((await send('/pem', mint(payload, { alg: 'RS256', key: rsa }))).status, 401, JSON.stringify(payload));
    assert.equal((await send('/hs', mint(payload, { alg: 'HS256', key: SECRET }))).status, 401, JSON.stringify(payload));
  }
  assert.equal(origin.seen.length, 0);
});

test('malformed tokens (two segments, five segments, bad base64url, non-JSON header) are 401', async (t) => {
  const { origin, rsa, send } = await setup(t);
  const good = mint({ sub: 'x' }, { alg: 'RS256', key: rsa });
  const [h, p, s] = good.split('.');
  for (const token of [`${h}.${p}`, `${good}.a.b`, `${h}!.${p}.${s}`, `${Buffer.from('not json').toString('base64url')}.${p}.${s}`, `${Buffer.from('[1]').toString('base64url')}.${p}.${s}`, '.', '..']) {
    const res = await send('/pem', token);
    assert.equal(res.status, 401, token.slice(0, 40));
  }
  assert.equal(origin.seen.length, 0);
});

test('a validly signed token over maxTokenSize is 401 before it is verified', async (t) => {
  const { origin, send } = await setup(t);
  const big = mint({ sub: 'x', pad: 'p'.repeat(9000) }, { alg: 'HS256', key: SECRET });
  const res = await send('/hs', big);
  assert.equal(res.status, 401);
  assert.match(res.body.detail, /larger than 8192 bytes/);
  assert.equal(origin.seen.length, 0);
});

test('a 100 KB token is refused (431 by the HTTP parser) and nothing is forwarded', async (t) => {
  const { origin, gw } = await setup(t);
  const token = mint({ sub: 'x', pad: 'p'.repeat(100 * 1024) }, { alg: 'HS256', key: SECRET });
  const res = await request(`${gw.url}/hs`, { headers: { authorization: `Bearer ${token}` } }).catch((err: Error) => err);
  if (res instanceof Error) assert.match(res.message, /socket|closed|reset/i);
  else {
    await res.body.dump();
    assert.ok(res.statusCode === 431 || res.statusCode === 401, `status ${res.statusCode}`);
  }
  assert.equal(origin.seen.length, 0);
});

test('the 401 detail says why and never echoes the token', async (t) => {
  const { send } = await setup(t);
  const expired = mint({ sub: 'secret-subject-value' }, { alg: 'HS256', key: SECRET, expiresIn: -60 });
  const res = await send('/hs', expired);
  assert.equal(res.status, 401);
  assert.equal(res.body.detail, 'the token has expired');
  const all = JSON.stringify(res.body) + JSON.stringify(res.headers);
  for (const part of expired.split('.')) assert.ok(!all.includes(part), 'no token segment in the answer');
  assert.ok(!all.includes('secret-subject-value'));
});

test('an alg with non-ASCII or quote characters is 401 with a header-safe challenge, never a 500', async (t) => {
  const { origin, send } = await setup(t);
  for (const alg of ['😀', 'HS256"\\', 'é\u2028x', '\u0000']) {
    const token = `${Buffer.from(JSON.stringify({ alg })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.c2ln`;
    const res = await send('/hs', token);
    assert.equal(res.status, 401, JSON.stringify(alg));
    assert.match(String(res.headers['www-authenticate']), /^Bearer realm="gatehouse", error="invalid_token", error_description="[\x20-\x7e]*"$/);
  }
  assert.equal(origin.seen.length, 0);
});
