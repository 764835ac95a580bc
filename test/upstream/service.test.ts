import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { loadConfig } from '../../src/config/load.js';
import { UpstreamService } from '../../src/upstream/service.js';
import { configDir, startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait-for.js';
import { switchableOrigin } from './health-origins.js';

interface LogLine {
  level: number;
  msg: string;
  service?: string;
}

function capture(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

async function serviceFrom(t: { after(fn: () => unknown): void }, yaml: string, logger?: pino.Logger): Promise<UpstreamService> {
  const dir = await configDir({ 'routes.d/a.yaml': yaml });
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile });
  const svc = new UpstreamService(snap.services.get('svc')!, undefined, { logger });
  t.after(() => svc.close());
  return svc;
}

test('panic: when every target fails its health check, requests go to all of them anyway', async (t) => {
  const a = await switchableOrigin();
  const b = await switchableOrigin();
  a.health = 503;
  b.health = 503;
  t.after(() => Promise.all([a.close(), b.close()]));
  const gw = await startGateway({
    'routes.d/a.yaml': `services:
  svc:
    discovery: { static: ["${a.url}", "${b.url}"] }
    healthCheck: { active: { interval: 30ms, timeout: 2s, unhealthy: 1 } }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc } }
`,
  });
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;
  await waitFor(() => svc.describe().targets.every((x) => !x.healthy), 'both targets marked unhealthy');
  assert.equal(svc.panic, true);
  assert.equal(svc.describe().panic, true);
  for (let i = 0; i < 10; i++) {
    const res = await request(`${gw.url}/x`);
    await res.body.dump();
    assert.equal(res.statusCode, 200);
  }
  assert.equal(a.served(), 5);
  assert.equal(b.served(), 5);
});

test('panic: one target left is never avoided; panic only when none is available', async (t) => {
  const svc = await serviceFrom(t, 'services:\n  svc:\n    discovery: { static: ["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"] }\n');
  const [x, y, z] = svc.list();
  x!.healthy = false;
  y!.ejectedUntil = Date.now() + 60_000;
  for (let i = 0; i < 10; i++) assert.equal(svc.pick(), z);
  assert.equal(svc.panic, false);
  z!.healthy = false;
  const picked = new Set(Array.from({ length: 30 }, () => svc.pick()));
  assert.equal(picked.size, 3);
  assert.equal(svc.panic, true);
});

test('panic: a warning is logged once per transition into panic, and a line when it ends', async (t) => {
  const { logger, lines } = capture();
  const svc = await serviceFrom(t, 'services:\n  svc:\n    discovery: { static: ["http://127.0.0.1:1", "http://127.0.0.1:2"] }\n', logger);
  const [x, y] = svc.list();
  const panicWarnings = () => lines.filter((l) => l.level === 40 && /panic/.test(l.msg));
  x!.healthy = false;
  y!.healthy = false;
  for (let i = 0; i < 20; i++) svc.pick();
  assert.equal(panicWarnings().length, 1);
  assert.equal(panicWarnings()[0]!.service, 'svc');
  y!.healthy = true;
  for (let i = 0; i < 20; i++) assert.equal(svc.pick(), y);
  assert.equal(lines.filter((l) => /panic mode over/.test(l.msg)).length, 1);
  y!.healthy = false;
  svc.pick();
  svc.pick();
  assert.equal(panicWarnings().length, 2);
});

test('a service with no target at all answers 503 UPSTREAM_UNAVAILABLE at once, and is not in panic', async (t) => {
  const a = await switchableOrigin();
  t.after(() => a.close());
  const gw = await startGateway({
    'routes.d/a.yaml': `services:\n  svc:\n    discovery: { static: ["${a.url}"] }\nroutes:\n  - { id: r, match: { path: /* }, upstream: { service: svc } }\n`,
  });
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;
  svc.setTargets([]);
  const res = await request(`${gw.url}/x`);
  assert.equal(res.statusCode, 503);
  assert.equal(((await res.body.json()) as { code: string }).code, 'UPSTREAM_UNAVAILABLE');
  assert.equal(svc.panic, false);
  assert.equal(svc.pick(), undefined);
});

test('describe(): service name, balancer, panic flag and each target as plain JSON', async (t) => {
  const a = await switchableOrigin();
  t.after(() => a.close());
  const gw = await startGateway({
    'routes.d/a.yaml': `services:
  svc:
    loadBalancer: least-connections
    discovery: { static: [ { url: "${a.url}", weight: 3 }, "http://127.0.0.1:1" ] }
    healthCheck: { passive: { failures: 1, ejectFor: 1m } }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc } }
`,
  });
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;
  const before = svc.describe();
  assert.deepEqual(before, {
    name: 'svc',
    balancer: 'least-connections',
    panic: false,
    targets: [
      { url: a.url, weight: 3, available: true, healthy: true, ejected: false, ejectedUntil: null, inflight: 0, latencyEwmaMs: null },
      { url: 'http://127.0.0.1:1', weight: 1, available: true, healthy: true, ejected: false, ejectedUntil: null, inflight: 0, latencyEwmaMs: null },
    ],
  });
  // Enough requests that the dead target is tried (and ejected: failures 1).
  for (let i = 0; i < 4; i++) await (await request(`${gw.url}/x`)).body.dump();
  const after = JSON.parse(JSON.stringify(svc.describe())) as typeof before;
  assert.equal(typeof after.targets[0]!.latencyEwmaMs, 'number');
  assert.equal(after.targets[1]!.ejected, true);
  assert.equal(after.targets[1]!.available, false);
  assert.match(after.targets[1]!.ejectedUntil!, /^\d{4}-\d\d-\d\dT/);
});
