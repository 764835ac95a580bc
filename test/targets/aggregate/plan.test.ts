import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { routeParams } from '../../../src/targets/aggregate/plan.js';
import { configDir, configErrors } from '../../helpers/gateway.js';

const SERVICES = `services:
  users:
    discovery: { static: ["http://127.0.0.1:3001"] }
  orders:
    discovery: { static: ["http://127.0.0.1:3002"] }
  payments:
    discovery: { static: ["http://127.0.0.1:3003"] }
routes:
`;

const errorsOf = (routes: string): Promise<string[]> => configErrors({ 'routes.d/a.yaml': SERVICES + routes });

test('the dependency graph is computed at load: who waits for whom', async (t) => {
  const dir = await configDir({
    'routes.d/a.yaml': `${SERVICES}  - id: dash
    match: { path: /dash/:userId }
    aggregate:
      backends:
        - { service: users, path: "/users/{params.userId}", as: user }
        - { service: orders, path: "/orders?user={params.userId}", as: orders, optional: true, select: [id, total, status] }
        - { service: payments, path: "/payments/{user.accountId}", as: payments, headers: { x-o: "{orders.id}" } }
`,
  });
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile });
  const plan = snap.routes[0]!.aggregatePlan!;
  assert.deepEqual(plan.backends.map((b) => [b.label, b.deps]), [['user', []], ['orders', []], ['payments', [0, 1]]]);
  assert.deepEqual(plan.services, ['users', 'orders', 'payments']);
  assert.equal(plan.timeout, 10_000);
  assert.equal(plan.conflict, 'error');
  assert.equal(plan.backends[0]!.config.method, 'GET');
});

test('a dependency cycle is an error at FILE:LINE:COL', async () => {
  const errors = await errorsOf(`  - id: loop
    match: { path: /loop }
    aggregate:
      backends:
        - { service: users, path: "/u/{b.id}", as: a }
        - { service: orders, path: "/o/{c.id}", as: b }
        - { service: payments, path: /p, as: c, query: { x: "{a.id}" } }
`);
  assert.deepEqual(errors, ['routes.d/a.yaml:15:42 routes[0].aggregate.backends[2].as: dependency cycle: a -> b -> c -> a']);
});

test('a backend reading its own result is a cycle', async () => {
  const errors = await errorsOf(`  - id: self
    match: { path: /self }
    aggregate:
      backends:
        - { service: users, path: "/u/{me.id}", as: me }
`);
  assert.deepEqual(errors, ['routes.d/a.yaml:13:49 routes[0].aggregate.backends[0].as: dependency cycle: me -> me']);
});

test('unknown references, unknown path parameters and unknown services are errors with suggestions', async () => {
  const errors = await errorsOf(`  - id: dash
    match: { path: /dash/:userId }
    aggregate:
      backends:
        - { service: users, path: "/users/{params.userid}", as: user }
        - { service: payment, path: "/payments/{usr.accountId}", as: payments }
        - { service: orders, path: /o, as: orders, headers: { x-a: "{header}" } }
      template: { total: "{order.total}" }
`);
  assert.deepEqual(errors, [
    'routes.d/a.yaml:13:29 routes[0].aggregate.backends[0].path: unknown path parameter {params.userid} (did you mean "userId"?); the route path /dash/:userId has :userId',
    'routes.d/a.yaml:14:31 routes[0].aggregate.backends[1].path: unknown reference {usr.accountId}: no backend has as: usr (did you mean "user"?)',
    'routes.d/a.yaml:15:63 routes[0].aggregate.backends[2].headers.x-a: {header} needs a name: {header.NAME}',
    'routes.d/a.yaml:16:19 routes[0].aggregate.template.total: unknown reference {order.total}: no backend has as: order (did you mean "orders"?)',
    'routes.d/a.yaml:14:13 routes[0].aggregate.backends[1].service: unknown service "payment" (did you mean "payments"?)',
  ]);
});

test('repeated or reserved `as` names, a bad conflict policy, body with forwardBody and a root part beside a template are errors', async () => {
  const errors = await errorsOf(`  - id: dash
    match: { path: /dash }
    aggregate:
      conflict: merge
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: user }
`);
  assert.deepEqual(errors, ['routes.d/a.yaml:12:7 routes[0].aggregate.conflict: must be one of error, first, last, deep-merge']);
  const more = await errorsOf(`  - id: dash
    match: { path: /dash }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: user }
        - { service: orders, path: /o, as: params }
        - { service: orders, method: POST, path: /o, as: o, body: {}, forwardBody: true }
        - { service: orders, path: /o, as: . }
      template: { x: "{o}" }
`);
  assert.deepEqual(more, [
    'routes.d/a.yaml:14:40 routes[0].aggregate.backends[1].as: "user" is already the as of backends[0]',
    'routes.d/a.yaml:15:40 routes[0].aggregate.backends[2].as: "params" is reserved for request values; choose another name',
    'routes.d/a.yaml:16:71 routes[0].aggregate.backends[3].forwardBody: use either body or forwardBody, not both',
    'routes.d/a.yaml:17:40 routes[0].aggregate.backends[4].as: with a template, a part merged into the root is never used; give it a name and read it in the template',
  ]);
});

test('route params are read from find-my-way paths', () => {
  assert.deepEqual(routeParams('/a/:id/b/:from-:to'), ['id', 'from', 'to']);
  assert.deepEqual(routeParams('/files/*'), ['*']);
  assert.deepEqual(routeParams('/x::y'), []);
});
