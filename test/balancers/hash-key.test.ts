import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { HASH_KEY_PATTERN, hashKeyOf } from '../../src/balancers/hash-key.js';

/** The fields of a Fastify request that hash keys read. */
function req(parts: { ip?: string; url?: string; headers?: Record<string, string | string[]>; jwt?: Record<string, unknown> }): FastifyRequest {
  return {
    ip: parts.ip ?? '127.0.0.1',
    url: parts.url ?? '/',
    headers: parts.headers ?? {},
    gatehouse: parts.jwt ? { jwt: parts.jwt } : null,
  } as unknown as FastifyRequest;
}

test('hashKey ip and path', () => {
  assert.equal(hashKeyOf('ip')(req({ ip: '10.1.2.3' })), '10.1.2.3');
  assert.equal(hashKeyOf('path')(req({ url: '/a/b?x=1' })), '/a/b');
});

test('hashKey header:NAME is case-insensitive and takes the first of repeated values', () => {
  const key = hashKeyOf('header:X-User-Id');
  assert.equal(key(req({ headers: { 'x-user-id': 'u7' } })), 'u7');
  assert.equal(key(req({ headers: { 'x-user-id': ['u1', 'u2'] } })), 'u1');
  assert.equal(key(req({})), undefined);
});

test('hashKey cookie:NAME', () => {
  const key = hashKeyOf('cookie:session');
  assert.equal(key(req({ headers: { cookie: 'a=1; session=abc; b=2' } })), 'abc');
  assert.equal(key(req({ headers: { cookie: 'session="q"' } })), 'q');
  assert.equal(key(req({ headers: { cookie: 'sessionx=1' } })), undefined);
});

test('hashKey query:NAME', () => {
  const key = hashKeyOf('query:tenant');
  assert.equal(key(req({ url: '/x?a=1&tenant=acme%20co' })), 'acme co');
  assert.equal(key(req({ url: '/x?a=1' })), undefined);
});

test('hashKey jwt:CLAIM reads verified claims from request.gatehouse.jwt', () => {
  assert.equal(hashKeyOf('jwt:sub')(req({ jwt: { sub: 'alice' } })), 'alice');
  assert.equal(hashKeyOf('jwt:org')(req({ jwt: { org: 42 } })), '42');
  assert.equal(hashKeyOf('jwt:sub')(req({})), undefined);
});

test('hashKey pattern accepts the documented forms only', () => {
  const re = new RegExp(HASH_KEY_PATTERN);
  for (const ok of ['ip', 'path', 'header:x-user-id', 'cookie:sid', 'query:q', 'jwt:sub']) assert.ok(re.test(ok), ok);
  for (const bad of ['', 'header', 'header:', 'body:x', 'IP', 'jwt: sub']) assert.ok(!re.test(bad), bad);
});
