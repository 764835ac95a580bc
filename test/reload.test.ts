import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import { request } from 'undici';
import { routeFile, startGateway } from './helpers/gateway.js';
import { startOrigin } from './helpers/upstream.js';

/** The find-my-way tree a route table looks routes up in. */
const treeOf = (table: unknown): unknown => (table as { router: unknown }).router;
const route = (id: string, path: string) => `  - id: ${id}\n    match: { path: ${path} }\n    upstream: { service: svc }\n`;

test('200 requests in flight across a reload all answer 200; new routes apply at once', async (t) => {
  const origin = await startOrigin((_req, res) => setTimeout(() => res.end('ok'), 100));
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route('r', '/r/*')) });
  t.after(() => gw.close());
  const fire = (n: number, path: string) => Array.from({ length: n }, () => request(`${gw.url}${path}`).then(async (r) => (await r.body.text(), r.statusCode)));
  const before = fire(200, '/r/before');
  await new Promise((r) => setTimeout(r, 30));
  await gw.dir.write('routes.d/a.yaml', routeFile([origin.url], route('r', '/r/*') + route('n', '/new')));
  const reload = gw.gateway.reload();
  const during = fire(100, '/r/during');
  assert.deepEqual(await reload, { ok: true, generation: 2 });
  const after = fire(100, '/new');
  const statuses = await Promise.all([...before, ...during, ...after]);
  assert.equal(statuses.length, 400);
  assert.deepEqual([...new Set(statuses)], [200]);
});

test('a service whose config did not change keeps its pool and target state across a reload', async (t) => {
  const a = await startOrigin();
  const b = await startOrigin();
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const other = `  other:\n    discovery:\n      static: ["${b.url}"]\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([a.url], route('r', '/r'), '') + '' , 'routes.d/b.yaml': `services:\n${other}` });
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc');
  const oth = gw.gateway.serviceSet.get('other');
  await gw.dir.write('routes.d/b.yaml', `services:\n${other}    timeout: 3s\n`);
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.equal(gw.gateway.serviceSet.get('svc'), svc, 'unchanged service kept');
  assert.notEqual(gw.gateway.serviceSet.get('other'), oth, 'changed service rebuilt');
});

test('a reload that keeps every route match and changes what they do: the new routes serve, from the running route tree', async (t) => {
  const a = await startOrigin((_req, res) => res.end('from a'));
  const b = await startOrigin((_req, res) => res.end('from b'));
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const routes = (target: string) => `  - id: one\n    match: { path: /one/:id }\n    upstream: { service: svc, rewrite: "/${target}/{id}" }\n` + route('two', '/two');
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([a.url], routes('x')) });
  t.after(() => gw.close());
  const body = async (path: string) => {
    const r = await request(`${gw.url}${path}`);
    return `${r.statusCode} ${await r.body.text()}`;
  };
  assert.equal(await body('/one/7'), '200 from a');
  const table = gw.gateway.snapshot().table;
  await gw.dir.write('routes.d/a.yaml', routeFile([b.url], routes('y')));
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.equal(await body('/one/7'), '200 from b');
  assert.equal(await body('/two'), '200 from b');
  const next = gw.gateway.snapshot().table;
  assert.notEqual(next, table);
  assert.equal(next.find('GET', '/one/7')?.route.upstream?.rewrite, '/y/{id}');
  assert.equal(table.find('GET', '/one/7')?.route.upstream?.rewrite, '/x/{id}');
  // The tree is the running one's: no second find-my-way router was built.
  assert.equal(treeOf(next), treeOf(table));
  // A changed match builds a tree of its own.
  await gw.dir.write('routes.d/a.yaml', routeFile([b.url], routes('y') + route('three', '/three')));
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.notEqual(treeOf(gw.gateway.snapshot().table), treeOf(next));
  assert.equal(await body('/three'), '200 from b');
});

test('routes.d is watched: a valid edit applies by itself; an invalid edit is logged with FILE:LINE:COL and the old config keeps serving', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route('r', '/r')) }, { logger, watch: true });
  t.after(() => gw.close());
  const status = async (path: string) => {
    const r = await request(`${gw.url}${path}`);
    await r.body.dump();
    return r.statusCode;
  };
  const until = async (cond: () => Promise<boolean> | boolean) => {
    for (let i = 0; i < 100 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 100));
  };
  await gw.dir.write('routes.d/b.yaml', `routes:\n${route('w', '/watched')}`);
  await until(async () => (await status('/watched')) === 200);
  assert.equal(await status('/watched'), 200);
  // half-written file: a syntax error
  await gw.dir.write('routes.d/b.yaml', `routes:\n  - id: w\n    match: { path: /watched\n`);
  await until(() => lines.some((l) => l.includes('reload rejected')));
  const errorLine = lines.find((l) => /routes\.d\/b\.yaml:\d+:\d+ syntax error/.test(l));
  assert.ok(errorLine, lines.join(''));
  assert.equal(await status('/watched'), 200);
  assert.equal(await status('/r'), 200);
});

test('shutdown during a reload waits for it, then closes what it opened (a new stream listener)', async (t) => {
  const { refusedPort, streamFile, startTcpService } = await import('./helpers/tcp.js');
  const net = await import('node:net');
  const origin = await startOrigin();
  const echo = await startTcpService();
  t.after(() => Promise.all([origin.close(), echo.close()]));
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route('r', '/r')) });
  const port = await refusedPort();
  await gw.dir.write('routes.d/s.yaml', streamFile([echo.url], `  - { id: late, listen: ${port}, service: tcpsvc }\n`));
  const reload = gw.gateway.reload();
  await new Promise((r) => setImmediate(r)); // the reload is reading files
  await gw.close();
  await reload;
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
  assert.equal(refused, true, 'nothing listens on the stream port after shutdown');
  assert.deepEqual(await gw.gateway.reload(), { ok: false, errors: ['the gateway is shutting down'] });
});
