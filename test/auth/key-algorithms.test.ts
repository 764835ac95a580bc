import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { algorithmsForPublicKey, looksLikePublicKeyMaterial } from '../../src/auth/key-algorithms.js';

test('each key type maps to its own algorithms only', () => {
  assert.deepEqual(algorithmsForPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), ['ES384']);
  assert.deepEqual(algorithmsForPublicKey(generateKeyPairSync('ed25519').publicKey), ['EdDSA']);
  assert.deepEqual(algorithmsForPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey), ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
});

test('weak or unsupported keys are refused with a reason', () => {
  assert.match((algorithmsForPublicKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey) as { error: string }).error, /1024 bits/);
  assert.match((algorithmsForPublicKey(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey) as { error: string }).error, /secp256k1/);
  assert.match((algorithmsForPublicKey(generateKeyPairSync('ed25519').privateKey) as { error: string }).error, /private key/);
});

test('PEM and asymmetric JWK text are recognised as public-key material; ordinary secrets are not', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.equal(looksLikePublicKeyMaterial(publicKey.export({ type: 'spki', format: 'pem' }) as string), true);
  assert.equal(looksLikePublicKeyMaterial(`  \n${publicKey.export({ type: 'spki', format: 'pem' }) as string}`), true);
  assert.equal(looksLikePublicKeyMaterial(JSON.stringify(publicKey.export({ format: 'jwk' }))), true);
  assert.equal(looksLikePublicKeyMaterial(JSON.stringify({ keys: [publicKey.export({ format: 'jwk' })] })), true);
  assert.equal(looksLikePublicKeyMaterial('correct horse battery staple, 32 bytes+'), false);
  assert.equal(looksLikePublicKeyMaterial('{"not": "a key"}'), false);
});
