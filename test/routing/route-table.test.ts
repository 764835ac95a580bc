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

test('rebind: routes matching the same requests share the tree and answer with the new routes', () => {
  const old = new RouteTable([route('a', '/items/:id', ['GET']), route('b', '/v', ['GET'], { headers: { 'x-api-version': '2' } }), route('c', '/v', ['GET']), route('d', '/files/*', ['GET', 'HEAD'])]);
  const next = old.rebind([route('a2', '/items/:id', ['GET']), route('b2', '/v', ['GET'], { headers: { 'x-api-version': '2' } }), route('c2', '/v', ['GET']), route('d2', '/files/*', ['GET', 'HEAD'])]);
  assert.ok(next);
  assert.equal(idOf(next, 'GET', '/items/7'), 'a2');
  assert.equal(next.find('GET', '/items/7')?.params.id, '7');
  assert.equal(idOf(next, 'HEAD', '/items/7'), 'a2');
  assert.equal(idOf(next, 'GET', '/v', { 'x-api-version': '2' }), 'b2');
  assert.equal(idOf(next, 'GET', '/v'), 'c2');
  assert.equal(idOf(next, 'HEAD', '/files/x'), 'd2');
  assert.deepEqual(next.allowed('/items/7'), ['GET', 'HEAD']);
  // The table rebound from keeps answering with its own routes.
  assert.equal(idOf(old, 'GET', '/items/7'), 'a');
});

test('rebind refuses routes that match other requests: a path, method, host or header that differs, or another count', () => {
  const base = [route('a', '/items/:id', ['GET']), route('b', '/v', ['GET'], { host: 'api.example.com', headers: { 'x-v': '2' } })];
  const old = new RouteTable(base);
  assert.ok(old.rebind(base.map((r) => ({ ...r }))));
  const variants: TableRoute[][] = [
    [route('a', '/items/:key', ['GET']), base[1]!],
    [route('a', '/items/:id', ['GET', 'POST']), base[1]!],
    [route('a', '/items/:id', ['POST']), base[1]!],
    [base[0]!, route('b', '/v', ['GET'], { host: 'other.example.com', headers: { 'x-v': '2' } })],
    [base[0]!, route('b', '/v', ['GET'], { host: 'api.example.com', headers: { 'x-v': '3' } })],
    [base[0]!, route('b', '/v', ['GET'], { host: 'api.example.com', headers: { 'x-w': '2' } })],
    [base[0]!, route('b', '/v', ['GET'], { host: 'api.example.com' })],
    [base[1]!, base[0]!],
    [base[0]!],
    [...base, route('c', '/c', ['GET'])],
  ];
  for (const v of variants) assert.equal(old.rebind(v), undefined, JSON.stringify(v));
});
