import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { credentialSource } from '../../src/auth/credential-source.js';

function fake(url: string, headers: Record<string, string> = {}): FastifyRequest {
  return { raw: { url }, headers } as unknown as FastifyRequest;
}

test('a query credential is decoded and every copy of it is cut from the URL, other parameters kept as sent', () => {
  const src = credentialSource({ query: 'api_key' });
  const req = fake('/x?a=%20b&api_key=k%2By+z&c=1&api%5Fkey=second&api_key');
  assert.deepEqual(src.take(req), { value: 'k+y z', from: 'query' });
  assert.equal(req.raw.url, '/x?a=%20b&c=1');
  const only = fake('/x?api_key=k');
  src.take(only);
  assert.equal(only.raw.url, '/x');
});

test('the query copy is cut even when a header credential wins', () => {
  const src = credentialSource({ header: 'x-api-key', query: 'api_key' });
  const req = fake('/x?api_key=from-query', { 'x-api-key': 'from-header' });
  assert.deepEqual(src.take(req), { value: 'from-header', from: 'header' });
  assert.equal(req.raw.url, '/x');
});

test('Bearer is case-insensitive; another scheme is no credential; a broken Bearer is an empty one', () => {
  const src = credentialSource({ bearer: true });
  assert.deepEqual(src.take(fake('/', { authorization: 'bearer abc.def.ghi' })), { value: 'abc.def.ghi', from: 'bearer' });
  assert.equal(src.take(fake('/', { authorization: 'Basic dXNlcjpwYXNz' })), undefined);
  assert.deepEqual(src.take(fake('/', { authorization: 'Bearer a b' })), { value: '', from: 'bearer' });
});

test('a cookie credential is read by exact name and hide removes only that cookie', () => {
  const src = credentialSource({ cookie: 'session' });
  const req = fake('/', { cookie: 'xsession=no; session="tok"; b=2' });
  const found = src.take(req)!;
  assert.deepEqual(found, { value: 'tok', from: 'cookie' });
  src.hide(req, found);
  assert.equal(req.headers.cookie, 'xsession=no; b=2');
  const alone = fake('/', { cookie: 'session=tok' });
  src.hide(alone, src.take(alone)!);
  assert.equal(alone.headers.cookie, undefined);
});
