import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { configDir } from '../helpers/gateway.js';

const files = (payments: string) => ({
  'routes.d/a.yaml': `services:
  users: { discovery: { static: ["http://127.0.0.1:3001"] } }
  orders: { discovery: { static: ["http://127.0.0.1:3002"] } }
  payments: { discovery: { static: ["http://127.0.0.1:3003"] }, timeout: 2s }
routes:
  - id: dashboard
    match: { path: /api/dashboard/:userId, methods: [GET] }
    aggregate:
      timeout: 2s
      backends:
        - { service: users, path: "/users/{params.userId}", as: user }
        - { service: orders, path: "/orders?user={params.userId}", as: orders, optional: true, select: [id, total, status] }
        - { service: payments, path: "${payments}", as: payments }
`,
});

test('routes and explain show aggregate targets with their services and backends', async (t) => {
  const dir = await configDir(files('/payments/{user.accountId}'));
  t.after(() => dir.cleanup());
  const routes = runCli(['routes'], dir.dir);
  assert.equal(routes.code, 0, routes.stderr);
  assert.deepEqual(routes.stdout.trimEnd().split('\n'), [
    'ID         METHODS  HOST  PATH                    TARGET',
    'dashboard  GET      *     /api/dashboard/:userId  aggregate -> users, orders, payments',
    '1 route, 3 services',
  ]);
  const ex = runCli(['explain', 'GET', '/api/dashboard/42'], dir.dir);
  assert.equal(ex.code, 0, ex.stderr);
  const lines = ex.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.slice(-4), [
    'target   aggregate -> users, orders, payments  timeout 2000ms  conflict error',
    '  user         GET users /users/{params.userId}  timeout 10000ms',
    '  orders       GET orders /orders?user={params.userId}  optional  timeout 10000ms',
    '  payments     GET payments /payments/{user.accountId}  timeout 2000ms  after user',
  ]);
});

test('gatehouse validate rejects a dependency cycle with FILE:LINE:COL and exit 1', async (t) => {
  const dir = await configDir({
    ...files('/payments/{user.accountId}'),
    'routes.d/b.yaml': `routes:
  - id: loop
    match: { path: /loop }
    aggregate:
      backends:
        - { service: users, path: "/u/{o.id}", as: u }
        - { service: orders, path: "/o/{u.id}", as: o }
`,
  });
  t.after(() => dir.cleanup());
  const r = runCli(['validate'], dir.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /routes\.d\/b\.yaml:7:49 routes\[0\]\.aggregate\.backends\[1\]\.as: dependency cycle: u -> o -> u/);
});
