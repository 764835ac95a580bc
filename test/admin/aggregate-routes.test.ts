import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';

test('GET /routes describes an aggregate target with its services; GET /config shows it as written', async (t) => {
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { host: 127.0.0.1, port: 0 }\n',
    'routes.d/a.yaml': `services:
  users: { discovery: { static: ["http://127.0.0.1:3001"] } }
  orders: { discovery: { static: ["http://127.0.0.1:3002"] } }
routes:
  - id: dash
    match: { path: /dash }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: orders }
        - { service: users, path: /v, as: more }
`,
  });
  t.after(() => gw.close());
  const res = await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/routes`);
  const body = (await res.body.json()) as { routes: { id: string; target: unknown }[]; table: string[] };
  assert.deepEqual(body.routes[0]!.target, { kind: 'aggregate', services: ['users', 'orders'], summary: 'aggregate -> users, orders' });
  assert.match(body.table[1]!, /aggregate -> users, orders$/);
  const config = (await (await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/config`)).body.json()) as { routes: Record<string, unknown>[] };
  const route = config.routes[0]!;
  assert.equal(route.aggregatePlan, undefined);
  assert.equal((route.aggregate as { backends: { as: string }[] }).backends[2]!.as, 'more');
});
