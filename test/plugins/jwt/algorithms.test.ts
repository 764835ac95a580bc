/** Each algorithm family verifies through the real gateway, with each kind of key configuration. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startJwksServer } from '../../helpers/idp.js';
import { ecKey, edKey, mint, rsaKey, type Alg, type SigningKey } from '../../helpers/jwt.js';
import { startOrigin } from '../../helpers/upstream.js';
import { jwtRoutes } from './routes.js';

const SECRET = 'a-test-secret-that-is-32-bytes-long!!';

async function get(url: string, token: string) {
  const res = await request(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

test('every algorithm family verifies with its key, from secret, publicKey, publicKeyFile and jwksUri', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const rsa = rsaKey();
  const p256 = ecKey('P-256');
  const p384 = ecKey('P-384');
  const p521 = ecKey('P-521');
  const ed = edKey('ed25519');
  const ed448 = edKey('ed448');
  const jwks = await startJwksServer([
    { ...rsa.jwk, kid: 'rsa' },
    { ...p256.jwk, kid: 'p256' },
    { ...p384.jwk, kid: 'p384' },
    { ...p521.jwk, kid: 'p521' },
    { ...ed.jwk, kid: 'ed' },
  ]);
  t.after(() => jwks.close());
  const gw = await startGateway({
    'keys/rsa.pem': rsa.publicPem,
    'routes.d/a.yaml': routeFile(
      [origin.url],
      jwtRoutes({
        hs: { secret: SECRET },
        rsa: { publicKey: rsa.publicPem },
        rsafile: { publicKeyFile: '../keys/rsa.pem' },
        p256: { publicKey: p256.publicPem },
        p384: { publicKey: p384.publicPem },
        p521: { publicKey: p521.publicPem },
        ed: { publicKey: ed.publicPem },
        ed448: { publicKey: ed448.publicPem },
        jwks: { jwksUri: jwks.url },
      }),
    ),
  });
  t.after(() => gw.close());

  const cases: [string, Alg, SigningKey | string, string?][] = [
    ['hs', 'HS256', SECRET],
    ['hs', 'HS384', SECRET],
    ['hs', 'HS512', SECRET],
    ...(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as Alg[]).map((a): [string, Alg, SigningKey] => ['rsa', a, rsa]),
    ['rsafile', 'RS256', rsa],
    ['p256', 'ES256', p256],
    ['p384', 'ES384', p384],
    ['p521', 'ES512', p521],
    ['ed', 'EdDSA', ed],
    ['ed448', 'EdDSA', ed448],
    ['jwks', 'RS256', rsa, 'rsa'],
    ['jwks', 'PS384', rsa, 'rsa'],
    ['jwks', 'ES256', p256, 'p256'],
    ['jwks', 'ES384', p384, 'p384'],
    ['jwks', 'ES512', p521, 'p521'],
    ['jwks', 'EdDSA', ed, 'ed'],
  ];
  for (const [route, alg, key, kid] of cases) {
    const before = origin.seen.length;
    const token = mint({ sub: `${route}-${alg}` }, { alg, key, kid });
    const res = await get(`${gw.url}/${route}`, token);
    assert.equal(res.status, 200, `${route} ${alg}: ${res.text}`);
    assert.equal(origin.seen.length, before + 1);
  }
  // A token signed by another key of the same type fails on every route.
  const other = { hs: 'another-secret-also-32-bytes-long!!!', rsa: rsaKey(), p256: ecKey('P-256'), ed: edKey() };
  for (const [route, alg, key, kid] of [
    ['hs', 'HS256', other.hs],
    ['rsa', 'RS256', other.rsa],
    ['p256', 'ES256', other.p256],
    ['ed', 'EdDSA', other.ed],
    ['jwks', 'RS256', other.rsa, 'rsa'],
  ] as [string, Alg, SigningKey | string, string?][]) {
    const before = origin.seen.length;
    const res = await get(`${gw.url}/${route}`, mint({ sub: 'x' }, { alg, key, kid }));
    assert.equal(res.status, 401, `${route} ${alg} with a foreign key`);
    assert.match(JSON.parse(res.text).detail, /signature is invalid/);
    assert.equal(origin.seen.length, before, 'nothing reaches the origin');
  }
});

test('without algorithms a key accepts only its own type: an ES384 token is refused by a P-256 key', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const p256 = ecKey('P-256');
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], jwtRoutes({ ec: { publicKey: p256.publicPem }, rsonly: { publicKey: rsaKey().publicPem, algorithms: ['RS256'] } })) });
  t.after(() => gw.close());
  const res = await get(`${gw.url}/ec`, mint({ sub: 'x' }, { alg: 'ES384', key: ecKey('P-384') }));
  assert.equal(res.status, 401);
  assert.match(JSON.parse(res.text).detail, /algorithm "ES384" is not accepted/);
  assert.equal(origin.seen.length, 0);
});

test('algorithms is an allow-list: PS256 is refused on a route that lists only RS256', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const rsa = rsaKey();
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], jwtRoutes({ r: { publicKey: rsa.publicPem, algorithms: ['RS256'] } })) });
  t.after(() => gw.close());
  assert.equal((await get(`${gw.url}/r`, mint({ sub: 'x' }, { alg: 'RS256', key: rsa }))).status, 200);
  const refused = await get(`${gw.url}/r`, mint({ sub: 'x' }, { alg: 'PS256', key: rsa }));
  assert.equal(refused.status, 401);
  assert.equal(origin.seen.length, 1);
});
