import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { explain } from '../../../src/cli/explain.js';
import { routeList } from '../../../src/cli/route-list.js';
import { configDir, configErrors } from '../../helpers/gateway.js';
import { grpcFiles, INVENTORY_PROTO } from './inventory-server.js';

const errorsOf = configErrors;

const target = ['grpc://127.0.0.1:50051'];

test('an unknown method is an error at the method key, with a suggestion', async () => {
  const errors = await errorsOf(
    grpcFiles(target, `  - id: item
    match: { path: /items/:sku }
    grpc:
      service: inventory
      proto: ./protos/inventory.proto
      method: shop.v1.Inventory/GetItm
`),
  );
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /^routes\.d\/inventory\.yaml:\d+:7 routes\[0\]\.grpc\.method: \.\/protos\/inventory\.proto has no method "shop\.v1\.Inventory\/GetItm" \(did you mean "shop\.v1\.Inventory\/GetItem"\?\)$/);
});

test('a proto that is missing or does not parse is an error at the proto key', async () => {
  const routes = `  - id: item
    match: { path: /items/:sku }
    grpc: { service: inventory, proto: ./protos/missing.proto, method: shop.v1.Inventory/GetItem }
`;
  const missing = await errorsOf(grpcFiles(target, routes));
  assert.equal(missing.length, 1);
  assert.match(missing[0]!, /inventory\.yaml:9:\d+ routes\[0\]\.grpc\.proto: cannot load \.\/protos\/missing\.proto: .*ENOENT/);
  const broken = await errorsOf({ ...grpcFiles(target, routes.replace('missing', 'broken')), 'routes.d/protos/broken.proto': 'syntax = "proto3";\nmessage {' });
  assert.equal(broken.length, 1);
  assert.match(broken[0]!, /routes\[0\]\.grpc\.proto: cannot load \.\/protos\/broken\.proto: /);
});

test('a grpc route needs a service with protocol grpc, and grpc targets need grpc URL schemes', async () => {
  const errors = await errorsOf({
    'routes.d/protos/inventory.proto': INVENTORY_PROTO,
    'routes.d/a.yaml': `services:
  web:
    discovery: { static: ["http://127.0.0.1:1"] }
  inv:
    protocol: grpc
    discovery: { static: ["tcp://127.0.0.1:2"] }
routes:
  - id: item
    match: { path: /items/:sku }
    grpc: { service: web, proto: ./protos/inventory.proto, method: shop.v1.Inventory/GetItem }
`,
  });
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[0]!, /services\.inv\.discovery\.static\[0\]: target "tcp:\/\/127\.0\.0\.1:2" does not match the service protocol grpc/);
  assert.match(errors[1]!, /routes\[0\]\.grpc\.service: service "web" has protocol http; grpc routes need a service with protocol: grpc/);
});

test('request metadata cannot name the headers the call itself sets or HTTP/2 forbids', async () => {
  const errors = await errorsOf(
    grpcFiles(target, `  - id: item
    match: { path: /items/:sku }
    grpc:
      service: inventory
      proto: ./protos/inventory.proto
      method: shop.v1.Inventory/GetItem
      metadata: { request: [x-tenant, Content-Type, connection] }
`),
  );
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[0]!, /^routes\.d\/inventory\.yaml:\d+:\d+ routes\[0\]\.grpc\.metadata\.request\[1\]: "Content-Type" cannot be sent as metadata/);
  assert.match(errors[1]!, /routes\[0\]\.grpc\.metadata\.request\[2\]: "connection" cannot be sent as metadata/);
});

test('a path parameter that is not a request field is an error at match.path', async () => {
  const errors = await errorsOf(
    grpcFiles(target, `  - id: item
    match: { path: /items/:skuu }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/GetItem }
`),
  );
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /routes\[0\]\.match\.path: path parameter :skuu is not a field of GetItemRequest \(did you mean "sku"\?\)$/);
});

test('a grpc route needs exactly one of method and annotations', async () => {
  const errors = await errorsOf(grpcFiles(target, `  - id: item
    match: { path: /items/:sku }
    grpc: { service: inventory, proto: ./protos/inventory.proto }
`));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /routes\[0\]\.grpc: needs exactly one of method/);
});

test('annotated methods expand to one route per http rule, listed as grpc targets', async (t) => {
  const dir = await configDir(grpcFiles(target, `  - id: catalog
    grpc: { service: inventory, proto: ./protos/inventory.proto, annotations: true, prefix: /api }
`));
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile });
  assert.deepEqual(
    snap.routes.map((r) => [r.id, r.methods.join(), r.match.path]),
    [
      ['catalog:shop.v1.Inventory/GetItem', 'GET', '/api/v1/shelves/:g0/items/:g1'],
      ['catalog:shop.v1.Inventory/GetItem#2', 'GET', '/api/v1/items/:g0'],
      ['catalog:shop.v1.Inventory/CreateItem', 'POST', '/api/v1/shelves/:g0/items'],
      ['catalog:shop.v1.Inventory/UpdateItem', 'PATCH', '/api/v1/items/:g0'],
      ['catalog:shop.v1.Inventory/GetByName', 'GET', '/api/v1/shelves/:g0/files/*'],
      ['catalog:shop.v1.Inventory/ListItems', 'GET', '/api/v1/shelves/:g0/stream'],
    ],
  );
  const table = routeList(snap).join('\n');
  assert.match(table, /catalog:shop\.v1\.Inventory\/GetItem +GET +\* +\/api\/v1\/shelves\/:g0\/items\/:g1 +grpc -> inventory\/shop\.v1\.Inventory\/GetItem/);
  assert.match(table, /grpc -> inventory\/shop\.v1\.Inventory\/ListItems \(server stream\)/);
});

test('gatehouse explain shows a grpc route\'s method and deadline', async (t) => {
  const dir = await configDir(grpcFiles(target, `  - id: item
    match: { path: /items/:sku, methods: [GET] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/GetItem, timeout: 2s }
`));
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile });
  const { matched, lines } = await explain(snap, { method: 'GET', url: '/items/abc', headers: {} });
  assert.equal(matched, true);
  assert.ok(lines.includes('target   grpc -> service inventory (round-robin: grpc://127.0.0.1:50051)'), lines.join('\n'));
  assert.ok(lines.includes('method   shop.v1.Inventory/GetItem  timeout 2000ms'), lines.join('\n'));
});
