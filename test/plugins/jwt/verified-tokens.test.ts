/** Verified tokens are remembered by their text, only while they would still verify (src/plugins/jwt/verified-tokens.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REMEMBER_MS, rememberingVerify, VerifiedTokens, type Claims } from '../../../src/plugins/jwt/verified-tokens.js';

/** A verify that decodes nothing: the claims of each token are given; counts its calls. */
function counted(claimsOf: Record<string, Claims | Error>) {
  const calls: string[] = [];
  const verify = (token: string): Claims => {
    calls.push(token);
    const c = claimsOf[token];
    if (c === undefined || c instanceof Error) throw c ?? new Error('unknown token');
    return c;
  };
  return { verify, calls };
}

test('a token that verified is answered from memory; another token is verified', () => {
  let now = 1_000_000;
  const { verify, calls } = counted({ a: { sub: 'a' }, b: { sub: 'b' } });
  const cached = rememberingVerify(verify, 10, 0, () => now);
  assert.deepEqual(cached('a'), { sub: 'a' });
  assert.deepEqual(cached('a'), { sub: 'a' });
  now += 1000;
  assert.deepEqual(cached('a'), { sub: 'a' });
  assert.deepEqual(cached('b'), { sub: 'b' });
  assert.deepEqual(calls, ['a', 'b']);
});

test('a remembered token is verified again once past its exp (plus the clock tolerance)', () => {
  let now = 10_000_000;
  const exp = now / 1000 + 5;
  const { verify, calls } = counted({ t: { sub: 'a', exp } });
  const cached = rememberingVerify(verify, 10, 2000, () => now);
  cached('t');
  now = exp * 1000 + 2000; // the last tolerated millisecond
  cached('t');
  assert.equal(calls.length, 1);
  now += 1;
  cached('t');
  assert.equal(calls.length, 2, 'past exp + tolerance the token goes back to verify (which refuses an expired one)');
});

test('a token with nbf is not answered from memory before nbf (minus the tolerance)', () => {
  const store = new VerifiedTokens(10, 1000);
  const nbf = 2_000_000;
  store.remember('t', { nbf, exp: nbf + 60 }, nbf * 1000 - 500);
  assert.equal(store.get('t', nbf * 1000 - 1001), undefined, 'before nbf - tolerance');
  // The early look dropped the entry: the next lookup, in time, misses and re-verifies.
  assert.equal(store.get('t', nbf * 1000), undefined);
  store.remember('t', { nbf, exp: nbf + 60 }, nbf * 1000);
  assert.deepEqual(store.get('t', nbf * 1000 - 1000), { nbf, exp: nbf + 60 });
});

test('a token without exp is remembered for REMEMBER_MS at most', () => {
  const store = new VerifiedTokens(10, 0);
  store.remember('t', { sub: 'a' }, 0);
  assert.ok(store.get('t', REMEMBER_MS));
  assert.equal(store.get('t', REMEMBER_MS + 1), undefined);
  // A far exp does not extend it either.
  store.remember('u', { exp: 10 ** 10 }, 0);
  assert.equal(store.get('u', REMEMBER_MS + 1), undefined);
});

test('failures are never remembered', () => {
  const { verify, calls } = counted({ bad: new Error('invalid signature') });
  const cached = rememberingVerify(verify, 10, 0, () => 0);
  assert.throws(() => cached('bad'), /invalid signature/);
  assert.throws(() => cached('bad'), /invalid signature/);
  assert.equal(calls.length, 2);
});

test('at most `size` tokens are kept, the oldest going first; size 0 is no memory at all', () => {
  const store = new VerifiedTokens(2, 0);
  store.remember('a', { sub: 'a' }, 0);
  store.remember('b', { sub: 'b' }, 0);
  store.remember('c', { sub: 'c' }, 0);
  assert.equal(store.count, 2);
  assert.equal(store.get('a', 1), undefined);
  assert.ok(store.get('b', 1));
  assert.ok(store.get('c', 1));

  const { verify, calls } = counted({ a: { sub: 'a' } });
  const off = rememberingVerify(verify, 0, 0);
  assert.equal(off, verify);
  off('a');
  off('a');
  assert.equal(calls.length, 2);
});

test('tokens differing in one character are different entries', () => {
  const { verify, calls } = counted({ 'h.p.sig1': { sub: 'a' }, 'h.p.sig2': new Error('invalid signature') });
  const cached = rememberingVerify(verify, 10, 0, () => 0);
  assert.deepEqual(cached('h.p.sig1'), { sub: 'a' });
  assert.throws(() => cached('h.p.sig2'), /invalid signature/);
  assert.equal(calls.length, 2);
});
