import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { startCli } from '../helpers/cli.js';
import { configDir } from '../helpers/gateway.js';
import { closedPort, startOrigin } from '../helpers/upstream.js';

const routes = (target: string, extra = '') => `services:
  svc:
    discovery:
      static: [ "${target}" ]
routes:
  - id: all
    match: { path: /* }
    upstream: { service: svc }
${extra}`;

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

test('SIGTERM lets an in-flight slow request finish, refuses new connections, then exits 0', async (t) => {
  const origin = await startOrigin((_req, res) => setTimeout(() => res.end('finished'), 1500));
  t.after(() => origin.close());
  const dir = await configDir({ 'gatehouse.yaml': 'admin: { enabled: false }\nserver: { port: 0, host: 127.0.0.1, shutdownGrace: 10s }\n', 'routes.d/a.yaml': routes(origin.url) });
  t.after(() => dir.cleanup());
  const gw = startCli(['start'], dir.dir);
  t.after(() => gw.child.kill('SIGKILL'));
  const port = await gw.listening;
  const inflight = request(`http://127.0.0.1:${port}/slow`);
  while (origin.seen.length === 0) await new Promise((r) => setTimeout(r, 20));
  gw.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await refused(port), true, 'new connections are refused while draining');
  const res = await inflight;
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), 'finished');
  assert.equal(await gw.exited, 0);
});

test('SIGHUP reloads the config of a running gateway', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const dir = await configDir({ 'gatehouse.yaml': 'admin: { enabled: false }\nserver: { port: 0, host: 127.0.0.1 }\n', 'routes.d/a.yaml': routes(origin.url) });
  t.after(() => dir.cleanup());
  const gw = startCli(['start'], dir.dir);
  t.after(() => gw.child.kill('SIGKILL'));
  const port = await gw.listening;
  await dir.write('routes.d/a.yaml', routes(origin.url).replace('path: /*', 'path: /only/*'));
  gw.child.kill('SIGHUP');
  for (let i = 0; i < 50 && !gw.output().includes('config reloaded'); i++) await new Promise((r) => setTimeout(r, 100));
  const res = await request(`http://127.0.0.1:${port}/elsewhere`);
  assert.equal(res.statusCode, 404);
  await res.body.dump();
  gw.child.kill('SIGTERM');
  assert.equal(await gw.exited, 0);
});

test('server.workers: 2 runs two workers on one port; admin reload and SIGTERM reach both', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const adminPort = await closedPort();
  const dir = await configDir({
    'gatehouse.yaml': `admin: { port: ${adminPort} }\nserver: { port: 0, host: 127.0.0.1, workers: 2 }\n`,
    'routes.d/a.yaml': routes(origin.url),
  });
  t.after(() => dir.cleanup());
  const gw = startCli(['start'], dir.dir);
  t.after(() => gw.child.kill('SIGKILL'));
  const port = await gw.listening;
  const admin = `http://127.0.0.1:${adminPort}`;
  for (let i = 0; i < 100; i++) {
    const r = await request(`${admin}/readyz`).catch(() => undefined);
    if (r?.statusCode === 200) {
      await r.body.dump();
      break;
    }
    await r?.body.dump();
    await new Promise((res) => setTimeout(res, 100));
  }
  // fresh connections, so the primary spreads them over the workers
  const fresh = new Agent({ pipelining: 0, keepAliveTimeout: 1 });
  t.after(() => fresh.close());
  for (let i = 0; i < 40; i++) {
    const r = await request(`http://127.0.0.1:${port}/n${i}`, { dispatcher: fresh, headers: { connection: 'close' } });
    await r.body.dump();
  }
  const pids = new Set(
    gw
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => (JSON.parse(l) as { pid: number }).pid),
  );
  assert.equal(pids.size, 2, 'both workers served requests');
  const metrics = await (await request(`${admin}/metrics`)).body.text();
  const line = metrics.split('\n').find((l) => l.startsWith('gatehouse_requests_total{route="all",method="GET",status="200"}'));
  assert.equal(line?.split(' ')[1], '40', `the primary sums the counters of both workers:\n${metrics.slice(0, 3000)}`);
  const services = (await (await request(`${admin}/services`)).body.json()) as { services: { worker: number }[] };
  assert.equal(services.services.length, 2);
  await dir.write('routes.d/a.yaml', routes(origin.url).replace('path: /*', 'path: /only/*'));
  const reload = await request(`${admin}/reload`, { method: 'POST' });
  assert.equal(reload.statusCode, 200);
  assert.equal(((await reload.body.json()) as { ok: boolean }).ok, true);
  for (let i = 0; i < 20; i++) {
    const r = await request(`http://127.0.0.1:${port}/gone${i}`, { dispatcher: fresh, headers: { connection: 'close' } });
    assert.equal(r.statusCode, 404, 'every worker has the new routes');
    await r.body.dump();
  }
  gw.child.kill('SIGTERM');
  assert.equal(await gw.exited, 0);
});
