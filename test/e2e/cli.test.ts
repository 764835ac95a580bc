import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { request } from 'undici';
import { runCli, startCli } from '../helpers/cli.js';
import { configDir } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

const routes = (target: string, service = 'orders') => `services:
  orders:
    discovery:
      static: [ "${target}" ]
routes:
  - id: orders
    match: { path: /api/orders/*, methods: [GET, POST] }
    upstream:
      service: ${service}
      stripPrefix: /api
    plugins:
      - headers: { response: { set: { x-gw: "1" } } }
      - request-size: { limit: 1kb }
  - id: v2
    match: { path: /api/v2, host: "*.example.com", headers: { x-api-version: "2" } }
    upstream: { service: ${service}, rewrite: /v2 }
`;

test('validate: exit 0 with a summary for a good config', async (t) => {
  const dir = await configDir({ 'routes.d/orders.yaml': routes('http://127.0.0.1:3001') });
  t.after(() => dir.cleanup());
  const r = runCli(['validate'], dir.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'ok: 2 files, 1 services, 2 routes\n');
});

test('validate: exit 1 listing every error as FILE:LINE:COL path: message', async (t) => {
  const dir = await configDir({
    'gatehouse.yaml': 'admin: { enabled: false }\nservr: {}\n',
    'routes.d/orders.yaml': routes('http://127.0.0.1:3001', 'ordrs'),
  });
  t.after(() => dir.cleanup());
  const r = runCli(['validate'], dir.dir);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    [
      'gatehouse.yaml:2:1 servr: unknown key "servr" (did you mean "server"?)',
      'routes.d/orders.yaml:9:7 routes[0].upstream.service: unknown service "ordrs" (did you mean "orders"?)',
      'routes.d/orders.yaml:16:17 routes[1].upstream.service: unknown service "ordrs" (did you mean "orders"?)',
      '3 errors in config',
      '',
    ].join('\n'),
  );
});

test('validate -c FILE reads another config file and resolves routes from its directory', async (t) => {
  const dir = await configDir({ 'conf/gw.yaml': 'admin: { enabled: false }\nroutes: ./r\n', 'conf/r/x.yaml': routes('http://127.0.0.1:1') });
  t.after(() => dir.cleanup());
  const r = runCli(['validate', '-c', 'conf/gw.yaml'], dir.dir);
  assert.equal(r.code, 0, r.stderr);
  const missing = runCli(['validate', '-c', 'nope.yaml'], dir.dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.yaml:1:1 cannot read file/);
});

test('routes prints the route table', async (t) => {
  const dir = await configDir({ 'routes.d/orders.yaml': routes('http://127.0.0.1:3001') });
  t.after(() => dir.cleanup());
  const r = runCli(['routes'], dir.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split('\n'), [
    'ID      METHODS   HOST           PATH                       TARGET',
    'orders  GET,POST  *              /api/orders/*              proxy -> orders',
    'v2      *         *.example.com  /api/v2 [x-api-version=2]  proxy -> orders',
    '2 routes, 1 service',
  ]);
});

test('explain shows the route, its plugin chain in run order and the target; exit 0', async (t) => {
  const dir = await configDir({ 'routes.d/orders.yaml': routes('http://127.0.0.1:3001') });
  t.after(() => dir.cleanup());
  const r = runCli(['explain', 'GET', '/api/orders/7?x=1'], dir.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split('\n'), [
    'route    orders  (routes.d/orders.yaml:6:5)',
    'match    GET,POST /api/orders/*',
    'params   *=7',
    'plugins  (in run order)',
    '  1. onRequest     request-size',
    '  2. preParsing    request-size',
    '  3. onSend        headers',
    'target   proxy -> service orders (round-robin: http://127.0.0.1:3001)',
    'upstream GET /orders/7?x=1  timeout 10000ms',
  ]);
  const v2 = runCli(['explain', 'GET', 'http://shop.example.com/api/v2', '-H', 'X-Api-Version: 2'], dir.dir);
  assert.equal(v2.code, 0, v2.stdout + v2.stderr);
  assert.match(v2.stdout, /^route {4}v2 /);
});

test('explain says why nothing matches and exits 1', async (t) => {
  const dir = await configDir({ 'routes.d/orders.yaml': routes('http://127.0.0.1:3001') });
  t.after(() => dir.cleanup());
  const method = runCli(['explain', 'DELETE', '/api/orders/1'], dir.dir);
  assert.equal(method.code, 1);
  assert.match(method.stdout, /method DELETE is not one of GET, POST/);
  assert.match(method.stdout, /405 METHOD_NOT_ALLOWED with Allow: GET, HEAD, POST/);
  const host = runCli(['explain', 'GET', 'http://example.org/api/v2', '-H', 'x-api-version: 3'], dir.dir);
  assert.equal(host.code, 1);
  assert.match(host.stdout, /host example\.org does not match \*\.example\.com/);
  assert.match(host.stdout, /header x-api-version: wants "2", got "3"/);
  const none = runCli(['explain', 'GET', '/nowhere'], dir.dir);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /no route's path matches \/nowhere; the gateway answers 404 ROUTE_NOT_FOUND/);
});

test('hash-key prints the sha256 of a key; unknown commands and --help', () => {
  const r = runCli(['hash-key', 's3cret'], process.cwd());
  assert.equal(r.stdout.trim(), createHash('sha256').update('s3cret').digest('hex'));
  const help = runCli(['--help'], process.cwd());
  assert.equal(help.code, 0);
  assert.match(help.stdout, /explain {2}METHOD URL/);
  const bad = runCli(['frobnicate'], process.cwd());
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
});

test('start serves the routes, and SIGTERM drains and exits 0', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const dir = await configDir({ 'gatehouse.yaml': 'admin: { enabled: false }\nserver: { port: 0, host: 127.0.0.1 }\n', 'routes.d/orders.yaml': routes(origin.url) });
  t.after(() => dir.cleanup());
  const gw = startCli(['start'], dir.dir);
  t.after(() => gw.child.kill('SIGKILL'));
  const port = await gw.listening;
  const res = await request(`http://127.0.0.1:${port}/api/orders/1`);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-gw'], '1');
  assert.equal(((await res.body.json()) as { url: string }).url, '/orders/1');
  gw.child.kill('SIGTERM');
  assert.equal(await gw.exited, 0);
  assert.match(gw.output(), /"msg":"request"/);
});

test('start with an invalid config prints every error and exits non-zero without listening', async (t) => {
  const dir = await configDir({ 'gatehouse.yaml': 'admin: { enabled: false }\nserver: { port: 0 }\n', 'routes.d/orders.yaml': routes('http://127.0.0.1:1', 'nope') });
  t.after(() => dir.cleanup());
  const r = runCli(['start'], dir.dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /routes\.d\/orders\.yaml:9:7 routes\[0\]\.upstream\.service: unknown service "nope"/);
  assert.doesNotMatch(r.stdout, /gateway listening/);
});
