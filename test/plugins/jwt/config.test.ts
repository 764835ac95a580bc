/** Config mistakes in a jwt block are refused at load, each at FILE:LINE:COL of the plugin. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, formatIssue } from '../../../src/config/diagnostics.js';
import { Gateway } from '../../../src/server.js';
import { configDir, silent } from '../../helpers/gateway.js';
import { ecKey, rsaKey } from '../../helpers/jwt.js';

const rsa = rsaKey();

async function loadErrors(t: import('node:test').TestContext, jwt: Record<string, unknown>, extra: Record<string, string> = {}): Promise<string[]> {
  const dir = await configDir({
    'routes.d/a.yaml': `services:\n  svc:\n    discovery: { static: ["http://127.0.0.1:9"] }\nroutes:\n  - id: r\n    match: { path: /r }\n    upstream: { service: svc }\n    plugins:\n      - jwt: ${JSON.stringify(jwt)}\n`,
    ...extra,
  });
  t.after(() => dir.cleanup());
  try {
    const gw = await Gateway.start({ configFile: dir.configFile, logger: silent, port: 0, host: '127.0.0.1' });
    await gw.close(100);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map(formatIssue);
  }
  assert.fail('the config loaded');
}

const cases: [string, Record<string, unknown>, RegExp][] = [
  ['no key at all', { issuer: 'x' }, /a\.yaml:9:9 .*needs one of secret, publicKey, publicKeyFile or jwksUri/],
  ['two keys', { secret: 'x'.repeat(32), jwksUri: 'https://idp/jwks' }, /a\.yaml:9:9 .*not secret and jwksUri/],
  ['PEM that is not a key', { publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n' }, /a\.yaml:9:9 .*publicKey is not a valid PEM public key/],
  ['text that is not PEM', { publicKey: 'hello' }, /a\.yaml:9:9 .*publicKey is not PEM text/],
  ['a private key as publicKey', { publicKey: rsa.private instanceof Object ? (rsa.private as import('node:crypto').KeyObject).export({ type: 'pkcs8', format: 'pem' }) : '' }, /holds a private key/],
  ['HS algorithm with an RSA key', { publicKey: rsa.publicPem, algorithms: ['HS256'] }, /a\.yaml:9:9 .*algorithms HS256 do not fit this rsa key, which verifies only RS256/],
  ['ES384 with a P-256 key', { publicKey: ecKey('P-256').publicPem, algorithms: ['ES384'] }, /do not fit this ec key, which verifies only ES256/],
  ['RS algorithm with a secret', { secret: 'x'.repeat(32), algorithms: ['RS256'] }, /do not fit a secret/],
  ['a PEM public key as secret', { secret: rsa.publicPem }, /secret holds public-key material/],
  ['a JWK as secret', { secret: JSON.stringify(rsa.jwk) }, /secret holds public-key material/],
  ['only HS algorithms with a JWKS', { jwksUri: 'https://idp/jwks', algorithms: ['HS256'] }, /JWKS provides public keys only/],
  ['alg none in the list', { secret: 'x'.repeat(32), algorithms: ['none'] }, /a\.yaml:9:\d+ routes\[0\]\.plugins\[0\]\.jwt\.algorithms\[0\]: must be one of .*"none" is never accepted/],
  ['a missing publicKeyFile', { publicKeyFile: 'keys/missing.pem' }, /cannot read publicKeyFile .*ENOENT/],
  ['jwksUri that is not a URL', { jwksUri: 'idp/jwks' }, /jwt\.jwksUri: must be an http:\/\/ or https:\/\/ URL/],
  ['an unknown key', { secret: 'x'.repeat(32), audiance: 'a' }, /jwt: unknown key "audiance" \(did you mean "audience"\?\)|unknown key "audiance"/],
  ['forwarding into Host', { secret: 'x'.repeat(32), forward: { host: 'sub' } }, /the host header cannot carry a claim/],
];

for (const [name, jwt, expected] of cases) {
  test(`load refuses ${name}`, async (t) => {
    const errors = await loadErrors(t, jwt);
    assert.ok(errors.some((e) => expected.test(e)), errors.join('\n'));
  });
}

test('publicKeyFile resolves from the directory of the file that configures it', async (t) => {
  const dir = await configDir({
    'routes.d/keys/k.pem': rsa.publicPem,
    'routes.d/a.yaml': `services:\n  svc:\n    discovery: { static: ["http://127.0.0.1:9"] }\nroutes:\n  - id: r\n    match: { path: /r }\n    upstream: { service: svc }\n    plugins:\n      - jwt: { publicKeyFile: keys/k.pem }\n`,
  });
  t.after(() => dir.cleanup());
  const gw = await Gateway.start({ configFile: dir.configFile, logger: silent, port: 0, host: '127.0.0.1' });
  t.after(() => gw.close(100));
  assert.deepEqual(gw.app.chains.get('r'), ['jwt']);
});
