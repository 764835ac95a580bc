/** The JOSE header read before any crypto (src/plugins/jwt/token-header.ts), remembered by its text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readHeader } from '../../../src/plugins/jwt/token-header.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

test('the header of a compact JWS: alg and kid', () => {
  assert.deepEqual(readHeader(`${b64({ alg: 'HS256', typ: 'JWT' })}.e30.c2ln`), { alg: 'HS256' });
  assert.deepEqual(readHeader(`${b64({ alg: 'RS256', kid: 'k1' })}.e30.c2ln`), { alg: 'RS256', kid: 'k1' });
});

test('a header read once is read the same for the next token, and what is wrong elsewhere is still refused', () => {
  const head = b64({ alg: 'ES256', kid: 'again' });
  const first = readHeader(`${head}.e30.c2ln`);
  assert.deepEqual(first, { alg: 'ES256', kid: 'again' });
  assert.deepEqual(readHeader(`${head}.eyJzdWIiOiJiIn0.b3RoZXI`), first);
  assert.deepEqual(readHeader(`${head}.e30.`), { error: 'the token has no signature' });
  assert.deepEqual(readHeader(`${head}.e30`), { error: 'the token is not a signed JWT (header.payload.signature)' });
  assert.deepEqual(readHeader(`${head}.e30.c2ln.more`), { error: 'the token is not a signed JWT (header.payload.signature)' });
});

test('malformed headers are refused with the reason, every time', () => {
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(readHeader('.e30.c2ln'), { error: 'the token is not a signed JWT (header.payload.signature)' });
    assert.deepEqual(readHeader('a+b.e30.c2ln'), { error: 'the token header is not base64url' });
    assert.deepEqual(readHeader(`${Buffer.from('{nope').toString('base64url')}.e30.c2ln`), { error: 'the token header is not JSON' });
    assert.deepEqual(readHeader(`${b64([1])}.e30.c2ln`), { error: 'the token header is not a JSON object' });
    assert.deepEqual(readHeader(`${b64({ typ: 'JWT' })}.e30.c2ln`), { error: 'the token header has no alg' });
    assert.deepEqual(readHeader(`${b64({ alg: 'HS256', kid: 7 })}.e30.c2ln`), { error: 'the token header kid is not a string' });
  }
});

test('a flood of distinct headers is still read correctly past the memory bound', () => {
  for (let i = 0; i < 1000; i++) assert.deepEqual(readHeader(`${b64({ alg: 'HS256', kid: `k${i}` })}.e30.c2ln`), { alg: 'HS256', kid: `k${i}` });
  assert.deepEqual(readHeader(`${b64({ alg: 'HS256', kid: 'k0' })}.e30.c2ln`), { alg: 'HS256', kid: 'k0' });
});
