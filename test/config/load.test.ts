import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/load.js';
import { configDir, configErrors } from '../helpers/gateway.js';

const errorsOf = configErrors;

const svc = `services:
  orders:
    discovery:
      static: [ "http://127.0.0.1:3001", { url: "http://127.0.0.1:3002", weight: 3 } ]
`;

test('a valid config loads with defaults filled and units decoded', async (t) => {
  const dir = await configDir({
    'gatehouse.yaml': 'server: { port: 9000, bodyLimit: 512kb, timeouts: { headers: 2s } }\nadmin: { enabled: false }\n',
    'routes.d/orders.yaml': `${svc}    timeout: 1m
routes:
  - id: orders
    match: { path: /api/orders/*, methods: [GET] }
    upstream: { service: orders, stripPrefix: /api }
`,
  });
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile });
  assert.equal(snap.settings.server.port, 9000);
  assert.equal(snap.settings.server.bodyLimit, 512 * 1024);
  assert.equal(snap.settings.server.timeouts.headers, 2000);
  assert.equal(snap.settings.server.timeouts.request, 30_000);
  const orders = snap.services.get('orders')!;
  assert.equal(orders.timeout, 60_000);
  assert.equal(orders.loadBalancer, 'round-robin');
  assert.deepEqual(orders.targets, [
    { url: 'http://127.0.0.1:3001', weight: 1 },
    { url: 'http://127.0.0.1:3002', weight: 3 },
  ]);
  assert.equal(snap.routes[0]!.id, 'orders');
  assert.deepEqual(snap.routes[0]!.methods, ['GET']);
});

test('embedded defaults apply when gatehouse.yaml is absent', async () => {
  const snap = await loadConfig({ configFile: undefined, routesDir: '/nonexistent-but-explicit' }).catch((e: ConfigError) => e);
  assert.ok(snap instanceof ConfigError, 'an explicit routes dir that does not exist is an error');
  const cwd = process.cwd();
  const dir = await configDir({});
  process.chdir(dir.dir);
  try {
    await dir.remove('gatehouse.yaml');
    const s = await loadConfig();
    assert.equal(s.settings.server.port, 8080);
    assert.equal(s.settings.admin.port, 9901);
    assert.equal(s.configFile, undefined);
    assert.equal(s.routes.length, 0);
  } finally {
    process.chdir(cwd);
    await dir.cleanup();
  }
});

test('${VAR} and ${VAR:-default} are replaced; plain scalars keep their type', async (t) => {
  const dir = await configDir({
    'gatehouse.yaml': 'server:\n  port: ${PORT:-8181}\n  host: "${HOST}"\nadmin: { token: "${TOKEN:-}", enabled: false }\n',
  });
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile, env: { HOST: '127.0.0.2' } });
  assert.equal(snap.settings.server.port, 8181);
  assert.equal(snap.settings.server.host, '127.0.0.2');
  assert.equal(snap.settings.admin.token, '');
  const again = await loadConfig({ configFile: dir.configFile, env: { HOST: 'h', PORT: '7000' } });
  assert.equal(again.settings.server.port, 7000);
});

test('a missing variable without a default is an error at its position', async () => {
  const errors = await errorsOf({ 'gatehouse.yaml': 'server:\n  host: ${NOPE}\n' });
  assert.deepEqual(errors, ['gatehouse.yaml:2:9 server.host: environment variable NOPE is not set and has no default (write ${NOPE:-default})']);
});

test('an unknown service names the file, line and column of the key, with a did-you-mean', async () => {
  const errors = await errorsOf({
    'routes.d/orders.yaml': `${svc}routes:
  - id: orders
    match: { path: /orders }
    upstream:
      service: ordres
`,
  });
  assert.deepEqual(errors, ['routes.d/orders.yaml:9:7 routes[0].upstream.service: unknown service "ordres" (did you mean "orders"?)']);
});

test('every error is reported at once, across files', async () => {
  const errors = await errorsOf({
    'gatehouse.yaml': 'server:\n  prot: 80\n  bodyLimit: lots\n',
    'routes.d/a.yaml': `${svc}routes:
  - id: a
    match: { path: /a }
    upstream: { service: orders }
    plugins:
      - header: { request: {} }
      - headers: { request: { set: 5 } }
`,
    'routes.d/b.json': '{ "routes": [ { "id": "b", "match": { "path": "b" }, "upstream": { "service": "x" } } ] }\n',
  });
  assert.deepEqual(errors, [
    'gatehouse.yaml:2:3 server.prot: unknown key "prot" (did you mean "port"?)',
    'gatehouse.yaml:3:3 server.bodyLimit: must be a size such as 512kb, 1mb or a number of bytes',
    'routes.d/a.yaml:10:9 routes[0].plugins[0].header: unknown plugin "header" (did you mean "headers"?)',
    'routes.d/a.yaml:11:31 routes[0].plugins[1].headers.request.set: must be a map of keys to values',
    'routes.d/b.json:1:39 routes[0].match.path: must start with /',
  ]);
});

test('duplicate service names and route ids across files name both files', async () => {
  const route = (id: string) => `routes:\n  - id: ${id}\n    match: { path: /${id}-x }\n    upstream: { service: orders }\n`;
  const errors = await errorsOf({
    'routes.d/a.yaml': `${svc}${route('same')}`,
    'routes.d/b.yaml': `${svc}${route('same')}`,
  });
  assert.deepEqual(errors, [
    'routes.d/b.yaml:2:3 services.orders: service "orders" is defined twice: here and in routes.d/a.yaml:2:3',
    'routes.d/b.yaml:6:5 routes[0].id: route id "same" is used twice: here and in routes.d/a.yaml:6:5',
  ]);
});

test('syntax errors carry line and column; editor temp files are ignored', async () => {
  const errors = await errorsOf({
    'routes.d/a.yaml': 'routes:\n  - id: a\n    match: { path: /a\n',
    'routes.d/.a.yaml.swp': 'garbage: [',
    'routes.d/a.yaml~': 'garbage: [',
    'routes.d/#a.yaml#': 'garbage: [',
  });
  assert.equal(errors.length >= 1, true);
  assert.match(errors[0]!, /^routes\.d\/a\.yaml:\d+:\d+ syntax error: /);
  assert.ok(errors.every((e) => e.startsWith('routes.d/a.yaml:')), errors.join('\n'));
});

test('a route needs exactly one target, and two routes may not claim the same requests', async () => {
  const errors = await errorsOf({
    'routes.d/a.yaml': `${svc}routes:
  - id: none
    match: { path: /none }
  - id: one
    match: { path: /same/:id, methods: [GET] }
    upstream: { service: orders, rewrite: "/x/{nope}" }
  - id: two
    match: { path: /same/:other, methods: [GET, POST] }
    upstream: { service: orders }
`,
  });
  assert.deepEqual(errors, [
    'routes.d/a.yaml:6:5 routes[0]: needs a target: upstream, aggregate or grpc',
    'routes.d/a.yaml:10:34 routes[1].upstream.rewrite: {nope} is not a parameter of match.path (has: {id})',
    'routes.d/a.yaml:12:5 routes[2].match: route "two" matches the same GET requests as route "one" (routes.d/a.yaml:8:5)',
  ]);
});

test('targets must be URLs of the service protocol without a path', async () => {
  const errors = await errorsOf({
    'routes.d/a.yaml': `services:
  s:
    discovery:
      static: [ "not a url", "https://x:1", "http://x:1/path" ]
`,
  });
  assert.deepEqual(errors, [
    'routes.d/a.yaml:4:17 services.s.discovery.static[0]: "not a url" is not a URL (write http://host:port)',
    'routes.d/a.yaml:4:30 services.s.discovery.static[1]: target "https://x:1" does not match the service protocol http',
    'routes.d/a.yaml:4:45 services.s.discovery.static[2]: target "http://x:1/path" must not have a path or query (use upstream.rewrite)',
  ]);
});
