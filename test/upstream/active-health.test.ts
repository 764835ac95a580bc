import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { loadConfig } from '../../src/config/load.js';
import { UpstreamService } from '../../src/upstream/service.js';
import { configDir, startGateway } from '../helpers/gateway.js';
import { closedPort } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait-for.js';
import { switchableOrigin } from './health-origins.js';

function files(targets: string[], active: string): Record<string, string> {
  return {
    'routes.d/a.yaml': `services:
  svc:
    discovery: { static: [${targets.map((t) => `"${t}"`).join(', ')}] }
    healthCheck: { active: ${active} }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc } }
`,
  };
}

async function get(url: string, times: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) {
    const res = await request(url);
    await res.body.dump();
    statuses.push(res.statusCode);
  }
  return statuses;
}

test('active health: a target failing its check is taken out of rotation, and brought back once it passes', async (t) => {
  const a = await switchableOrigin();
  const b = await switchableOrigin();
  t.after(() => Promise.all([a.close(), b.close()]));
  const gw = await startGateway(files([a.url, b.url], '{ path: /healthz, interval: 40ms, timeout: 2s, healthy: 2, unhealthy: 2 }'));
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;
  const healthOf = (url: string) => svc.describe().targets.find((x) => x.url === url)!.healthy;

  await waitFor(() => b.probes() >= 1, 'the first probe');
  b.health = 503;
  await waitFor(() => !healthOf(b.url), 'b marked unhealthy');
  const servedBefore = b.served();
  assert.deepEqual(new Set(await get(`${gw.url}/x`, 20)), new Set([200]));
  assert.equal(b.served(), servedBefore, 'an unhealthy target got requests');

  b.health = 200;
  await waitFor(() => healthOf(b.url), 'b healthy again');
  await get(`${gw.url}/x`, 20);
  assert.equal(b.served(), servedBefore + 10);
  assert.equal(svc.panic, false);
});

test('active health: a check that does not answer within timeout fails', async (t) => {
  const a = await switchableOrigin();
  const b = await switchableOrigin();
  b.health = 'hang';
  t.after(() => Promise.all([a.close(), b.close()]));
  const gw = await startGateway(files([a.url, b.url], '{ interval: 40ms, timeout: 150ms, unhealthy: 1 }'));
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;
  await waitFor(() => svc.describe().targets[1]!.healthy === false, 'b marked unhealthy after timing out');
});

test('active health: expectStatus lists the passing statuses; a refused connection fails', async (t) => {
  const a = await switchableOrigin();
  const b = await switchableOrigin();
  b.health = 204;
  const dead = `http://127.0.0.1:${await closedPort()}`;
  t.after(() => Promise.all([a.close(), b.close()]));
  const gw = await startGateway(files([a.url, b.url, dead], '{ interval: 40ms, timeout: 2s, unhealthy: 1, expectStatus: [200] }'));
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;
  await waitFor(() => svc.describe().targets.filter((x) => !x.healthy).length === 2, 'b and the dead target marked unhealthy');
  assert.deepEqual(
    svc.describe().targets.map((x) => x.healthy),
    [true, false, false],
  );
  assert.deepEqual(new Set(await get(`${gw.url}/x`, 10)), new Set([200]));
  assert.equal(a.served(), 10);
});

test('active health: checks stop when the service closes', async (t) => {
  const a = await switchableOrigin();
  t.after(() => a.close());
  const dir = await configDir(files([a.url], '{ interval: 20ms, timeout: 2s }'));
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile });
  const svc = new UpstreamService(snap.services.get('svc')!);
  await waitFor(() => a.probes() >= 3, 'three probes');
  await svc.close();
  await sleep(30); // a probe cut off by close() may still be arriving
  const after = a.probes();
  await sleep(120);
  assert.equal(a.probes(), after);
});

test('active health survives a reload for an unchanged service, and stops for a replaced one', async (t) => {
  const a = await switchableOrigin();
  const b = await switchableOrigin();
  t.after(() => Promise.all([a.close(), b.close()]));
  const gw = await startGateway(files([a.url, b.url], '{ interval: 30ms, timeout: 2s, healthy: 1, unhealthy: 1 }'));
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;
  b.health = 503;
  await waitFor(() => svc.describe().targets[1]!.healthy === false, 'b marked unhealthy');

  // Another route file appears; the service is unchanged.
  await gw.dir.write('routes.d/b.yaml', 'routes:\n  - { id: other, match: { path: /other }, upstream: { service: svc } }\n');
  assert.deepEqual(await gw.gateway.reload(), { ok: true, generation: 2 });
  assert.equal(gw.gateway.serviceSet.get('svc'), svc, 'an unchanged service was rebuilt');
  assert.equal(svc.describe().targets[1]!.healthy, false, 'health state lost on reload');
  b.health = 200;
  await waitFor(() => svc.describe().targets[1]!.healthy, 'b healthy again after the reload (checker still running)');

  // The service changes (another check path): a new service with its own checker; the old one stops.
  await gw.dir.write('routes.d/a.yaml', files([a.url, b.url], '{ path: /ready, interval: 30ms, timeout: 2s }')['routes.d/a.yaml']!);
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.notEqual(gw.gateway.serviceSet.get('svc'), svc);
  await waitFor(() => a.probes('/ready') >= 2, 'the new checker probing /ready');
  await sleep(60);
  const old = a.probes('/healthz');
  await sleep(150);
  assert.equal(a.probes('/healthz'), old, 'the replaced service still probes');
});
