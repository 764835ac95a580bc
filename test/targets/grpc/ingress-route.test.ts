import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configView } from '../../../src/admin/config-view.js';
import { routeList } from '../../../src/cli/route-list.js';
import { loadConfig } from '../../../src/config/load.js';
import { INGRESS_SECRET } from '../../../src/targets/grpc/ingress-route.js';
import { configDir, configErrors } from '../../helpers/gateway.js';
import { INVENTORY_PROTO } from './inventory-server.js';

const SETTINGS = 'admin: { enabled: false }\ngrpcServer: { port: 0, protos: [./protos/inventory.proto] }\n';

function files(routes: string, settings = SETTINGS): Record<string, string> {
  return {
    'gatehouse.yaml': settings,
    'protos/inventory.proto': INVENTORY_PROTO,
    'routes.d/a.yaml': `services:\n  items:\n    discovery: { static: ["http://127.0.0.1:1"] }\nroutes:\n${routes}`,
  };
}

const errorsOf = configErrors;

test('ingress routes: unknown method (with a suggestion), no grpcServer, no http rule, a path beside match.grpc', async () => {
  const unknown = await errorsOf(files('  - id: g\n    match: { grpc: shop.v1.Inventory/GetItm }\n    upstream: { service: items }\n'));
  assert.deepEqual(unknown, ['routes.d/a.yaml:6:14 routes[0].match.grpc: no grpcServer.protos file has method "shop.v1.Inventory/GetItm" (did you mean "shop.v1.Inventory/GetItem"?)']);
  const noServer = await errorsOf(files('  - id: g\n    match: { grpc: shop.v1.Inventory/GetItem }\n    upstream: { service: items }\n', 'admin: { enabled: false }\n'));
  assert.match(noServer[0]!, /routes\[0\]\.match\.grpc: needs grpcServer/);
  const noRule = await errorsOf(files('  - id: g\n    match: { grpc: shop.v1.Inventory/Fail }\n    upstream: { service: items }\n'));
  assert.match(noRule[0]!, /routes\[0\]\.match\.grpc: shop\.v1\.Inventory\/Fail has no google\.api\.http option/);
  const withPath = await errorsOf(files('  - id: g\n    match: { grpc: shop.v1.Inventory/GetItem, path: /x }\n    upstream: { service: items }\n'));
  assert.match(withPath[0]!, /routes\[0\]\.match\.path: a gRPC ingress route matches by match\.grpc/);
  const badProto = await errorsOf({ ...files(''), 'gatehouse.yaml': 'admin: { enabled: false }\ngrpcServer: { protos: [./protos/nope.proto] }\n' });
  assert.match(badProto[0]!, /^gatehouse\.yaml:2:\d+ grpcServer\.protos\[0\]: cannot load \.\/protos\/nope\.proto/);
});

test('ingress routes are listed by method, and their internal secret shows nowhere', async (t) => {
  const dir = await configDir(files('  - id: g\n    match: { grpc: shop.v1.Inventory/GetItem }\n    upstream: { service: items }\n'));
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile });
  const table = routeList(snap).join('\n');
  assert.match(table, /g +GET +\* +\(gRPC shop\.v1\.Inventory\/GetItem\) +grpc ingress shop\.v1\.Inventory\/GetItem -> GET \/v1\/shelves\/\{shelf\}\/items\/\{sku\} on items/);
  const everything = `${table}\n${JSON.stringify(configView(snap, 1))}`;
  assert.ok(!everything.includes(INGRESS_SECRET));
  assert.match(JSON.stringify(configView(snap, 1)), /"match":\{"grpc":"shop\.v1\.Inventory\/GetItem"\}/);
});
