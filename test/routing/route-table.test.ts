import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouteTable, type TableRoute } from '../../src/routing/route-table.js';

const route = (id: string, path: string, methods: string[], extra: Partial<TableRoute['match']> = {}): TableRoute => ({ id, methods, match: { path, ...extra } });
const idOf = (table: RouteTable<TableRoute>, method: string, url: string, headers: Record<string, string> = {}) => table.find(method, url, headers)?.route.id;

test('a GET route answers HEAD when no route lists HEAD', () => {
  const table = new RouteTable([route('items', '/items/:id', ['GET']), route('post-only', '/forms', ['POST']), route('wild', '/files/*', ['GET', 'DELETE'])]);
  assert.equal(idOf(table, 'HEAD', '/items/7'), 'items');
  assert.equal(table.find('HEAD', '/items/7')?.params.id, '7');
  assert.equal(idOf(table, 'HEAD', '/files/a/b.css'), 'wild');
  assert.equal(idOf(table, 'HEAD', '/forms'), undefined);
  assert.deepEqual(table.allowed('/items/7'), ['GET', 'HEAD']);
  assert.deepEqual(table.allowed('/forms'), ['POST']);
});

test('routes that omit methods (all of them, HEAD included) keep HEAD on their own routes', () => {
  const table = new RouteTable([route('all', '/any', ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']), route('get', '/get', ['GET'])]);
  assert.equal(idOf(table, 'HEAD', '/any'), 'all');
  assert.equal(idOf(table, 'HEAD', '/get'), 'get');
});

test('an explicit HEAD route keeps its path from the GET routes there, and only there', () => {
  const table = new RouteTable([
    route('files-get', '/files/*', ['GET']),
    route('files-head', '/files/*', ['HEAD']),
    route('special', '/files/special', ['GET']),
    route('head-only', '/ping', ['HEAD']),
  ]);
  assert.equal(idOf(table, 'HEAD', '/files/a.txt'), 'files-head');
  assert.equal(idOf(table, 'GET', '/files/a.txt'), 'files-get');
  // Its own path is not one a HEAD route lists, so the more specific GET route answers HEAD.
  assert.equal(idOf(table, 'HEAD', '/files/special'), 'special');
  assert.equal(idOf(table, 'HEAD', '/ping'), 'head-only');
  assert.equal(idOf(table, 'GET', '/ping'), undefined);
});

test('HEAD follows the GET route constraints', () => {
  const table = new RouteTable([route('v2', '/v', ['GET'], { headers: { 'x-api-version': '2' } }), route('v', '/v', ['GET'])]);
  assert.equal(idOf(table, 'HEAD', '/v', { 'x-api-version': '2' }), 'v2');
  assert.equal(idOf(table, 'HEAD', '/v'), 'v');
});
