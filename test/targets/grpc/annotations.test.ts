import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { compileRule } from '../../../src/targets/grpc/annotations.js';
import { startGateway } from '../../helpers/gateway.js';
import { grpcFiles, startInventory } from './inventory-server.js';

const CATALOG = `  - id: catalog
    grpc: { service: inventory, proto: ./protos/inventory.proto, annotations: true, prefix: /api }
`;

async function startAnnotated(t: { after(fn: () => Promise<void>): void }) {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(grpcFiles([server.url], CATALOG));
  t.after(() => gw.close());
  return { server, gw };
}

test('annotations: {field} variables in the rule path, unbound fields from the query', async (t) => {
  const { server, gw } = await startAnnotated(t);
  const res = await request(`${gw.url}/api/v1/shelves/s9/items/abc?tags=x&tags=y&filter.size.height=2`);
  assert.equal(res.statusCode, 200);
  const body = (await res.body.json()) as Record<string, unknown>;
  assert.equal(body.sku, 'abc');
  assert.equal(body.shelf, 's9');
  assert.deepEqual(server.calls.at(-1)!.request, { sku: 'abc', shelf: 's9', tags: ['x', 'y'], filter: { size: { height: 2 } } });
});

test('annotations: additional_bindings route to the same method', async (t) => {
  const { server, gw } = await startAnnotated(t);
  const res = await request(`${gw.url}/api/v1/items/only-sku`);
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  assert.equal(server.calls.at(-1)!.method, 'GetItem');
  assert.deepEqual(server.calls.at(-1)!.request, { sku: 'only-sku' });
});

test('annotations: body: "field" fills that field, body: "*" the whole message', async (t) => {
  const { server, gw } = await startAnnotated(t);
  const created = await request(`${gw.url}/api/v1/shelves/s1/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'new', name: 'Chair', count: '3' }),
  });
  assert.equal(created.statusCode, 200);
  assert.deepEqual(server.calls.at(-1)!.request, { shelf: 's1', item: { sku: 'new', name: 'Chair', count: '3' } });
  assert.equal(((await created.body.json()) as Record<string, unknown>).shelf, 's1');

  const patched = await request(`${gw.url}/api/v1/items/p1`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Desk', status: 'SOLD_OUT' }),
  });
  assert.equal(patched.statusCode, 200);
  assert.deepEqual(server.calls.at(-1)!.request, { sku: 'p1', name: 'Desk', status: 'SOLD_OUT' });
  await patched.body.dump();

  const refused = await request(`${gw.url}/api/v1/items/p1?name=x`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(refused.statusCode, 400, 'with body "*" nothing may come from the query');
  await refused.body.dump();
});

test('annotations: {name=shelves/*} keeps the literal segments and {path=**} takes the rest of the path', async (t) => {
  const { server, gw } = await startAnnotated(t);
  const res = await request(`${gw.url}/api/v1/shelves/top/files/a/b/c.txt`);
  assert.equal(res.statusCode, 200);
  assert.deepEqual(await res.body.json(), { name: 'shelves/top', path: 'a/b/c.txt' });
  assert.equal(server.calls.at(-1)!.method, 'GetByName');
});

test('annotations: methods without a rule are not exposed, other HTTP methods are 405', async (t) => {
  const { server, gw } = await startAnnotated(t);
  const none = await request(`${gw.url}/api/shop.v1.Inventory/Fail`);
  assert.equal(none.statusCode, 404);
  await none.body.dump();
  const wrong = await request(`${gw.url}/api/v1/items/x`, { method: 'DELETE' });
  assert.equal(wrong.statusCode, 405);
  await wrong.body.dump();
  assert.equal(server.calls.length, 0);
});

test('compileRule: router paths for literals, variables, wildcards and verbs', () => {
  const c = (template: string, prefix = '/') => compileRule({ httpMethod: 'GET', template, body: '' }, prefix);
  const simple = c('/v1/shelves/{shelf}/items/{item.sku}', '/api/');
  assert.ok(typeof simple !== 'string');
  assert.equal(simple.path, '/api/v1/shelves/:g0/items/:g1');
  assert.deepEqual(simple.pathFields, [
    { field: 'shelf', parts: [{ param: 'g0' }] },
    { field: 'item.sku', parts: [{ param: 'g1' }] },
  ]);
  const nested = c('/v1/{name=projects/*/locations/*}/files/{path=**}');
  assert.ok(typeof nested !== 'string');
  assert.equal(nested.path, '/v1/projects/:g0/locations/:g1/files/*');
  assert.deepEqual(nested.pathFields[0], { field: 'name', parts: [{ literal: 'projects' }, { param: 'g0' }, { literal: 'locations' }, { param: 'g1' }] });
  const verb = c('/v1/items:batchGet');
  assert.ok(typeof verb !== 'string');
  assert.equal(verb.path, '/v1/items::batchGet');
  assert.match(String(c('/v1/{name}:cancel')), /verb after a variable is not supported/);
  assert.match(String(c('/v1/**/x')), /must be the last segment/);
  assert.match(String(c('/v1/{name')), /unbalanced/);
});
