/** undici's raw response headers as the object the gateway forwards (src/upstream/hop-by-hop.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectRawHeaders, rawResponseHeaderFilter } from '../../src/upstream/hop-by-hop.js';

const raw = (...pairs: string[]) => pairs.map((p) => Buffer.from(p, 'latin1'));

test('names are lower-cased (well-known and custom alike), repeats become arrays, dropped names are left out', () => {
  const seen: { connection?: string } = {};
  const out = collectRawHeaders(
    raw('Content-Type', 'application/json', 'X-Custom-Thing', 'a', 'Set-Cookie', 'a=1', 'SET-COOKIE', 'b=2', 'Connection', 'keep-alive', 'connection', 'X-Drop-Me', 'X-DROP-ME', 'gone', 'x-caf\xe9', 'latin1 \xe9'),
    new Set(['connection', 'x-drop-me']),
    seen,
  );
  assert.deepEqual(out, { 'content-type': 'application/json', 'x-custom-thing': 'a', 'set-cookie': ['a=1', 'b=2'], 'x-caf\xe9': 'latin1 \xe9' });
  assert.equal(seen.connection, 'keep-alive, X-Drop-Me');
});

test('the response filter drops hop-by-hop headers and those the Connection header names', () => {
  const filter = rawResponseHeaderFilter([]);
  const out = filter(raw('Content-Length', '2', 'Keep-Alive', 'timeout=5', 'Connection', 'x-hop', 'X-Hop', 'h', 'Transfer-Encoding', 'chunked', 'ETag', '"v1"'));
  assert.deepEqual(out, { 'content-length': '2', etag: '"v1"' });
});
