import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPathBuilder } from '../../src/routing/upstream-path.js';

test('stripPrefix removes a whole-segment prefix and keeps the query', () => {
  const b = buildPathBuilder('/api/*', { stripPrefix: '/api' });
  assert.equal(b('/api/orders/1', 'x=1', {}), '/orders/1?x=1');
  assert.equal(b('/api', '', {}), '/');
  assert.equal(b('/apix/orders', '', {}), '/apix/orders');
});

test('rewrite fills {param} re-encoded and {*} with the raw remainder', () => {
  const b = buildPathBuilder('/items/:id/*', { rewrite: '/v1/items/{id}/{*}' });
  assert.equal(b('/items/a%2Fb/x/y%2Fz', 'q=1', { id: 'a/b', '*': 'x/y/z' }), '/v1/items/a%2Fb/x/y%2Fz?q=1');
  const c = buildPathBuilder('/u/:name', { rewrite: '/users/{name}' });
  assert.equal(c('/u/x', '', { name: 'a?b#c' }), '/users/a%3Fb%23c');
});

test('without stripPrefix or rewrite the path passes as it is', () => {
  const b = buildPathBuilder('/x/*', {});
  assert.equal(b('/x/y', '', {}), '/x/y');
});
