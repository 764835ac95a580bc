import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { loadConfig } from '../../src/config/load.js';
import { passiveHealth } from '../../src/upstream/passive-health.js';
import { UpstreamTarget } from '../../src/upstream/target.js';
import { configDir, startGateway } from '../helpers/gateway.js';
import { closedPort } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait-for.js';
import { switchableOrigin } from './health-origins.js';

function files(targets: string[], passive: string, extra = ''): Record<string, string> {
  return {
    'routes.d/a.yaml': `services:
  svc:
    discovery: { static: [${targets.map((t) => `"${t}"`).join(', ')}] }
    healthCheck: { passive: ${passive} }
${extra}routes:
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

test('passive health: consecutive 5xx eject a target for ejectFor, then it is tried again', async (t) => {
  const a = await switchableOrigin();
  const b = await switchableOrigin();
  b.status = 500;
  t.after(() => Promise.all([a.close(), b.close()]));
  const gw = await startGateway(files([a.url, b.url], '{ failures: 3, ejectFor: 1s }'));
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;

  // Round robin: b answers requests 2, 4 and 6 with 500; the third ejects it.
  assert.deepEqual(await get(`${gw.url}/x`, 6), [200, 500, 200, 500, 200, 500]);
  const ejected = svc.describe().targets[1]!;
  assert.equal(ejected.ejected, true);
  assert.equal(ejected.available, false);
  assert.ok(ejected.ejectedUntil !== null && Date.parse(ejected.ejectedUntil) > Date.now());
  assert.deepEqual(new Set(await get(`${gw.url}/x`, 10)), new Set([200]));
  assert.equal(b.served(), 3);

  b.status = 200;
  await waitFor(() => !svc.describe().targets[1]!.ejected, 'the ejection to end', 3_000);
  await get(`${gw.url}/x`, 10);
  assert.equal(b.served(), 8);
});

test('passive health: 4xx answers never eject a target', async (t) => {
  const a = await switchableOrigin();
  const b = await switchableOrigin();
  b.status = 404;
  t.after(() => Promise.all([a.close(), b.close()]));
  const gw = await startGateway(files([a.url, b.url], '{ failures: 2, ejectFor: 30s }'));
  t.after(() => gw.close());
  const statuses = await get(`${gw.url}/x`, 20);
  assert.equal(statuses.filter((s) => s === 404).length, 10);
  assert.equal(gw.gateway.serviceSet.get('svc')!.describe().targets[1]!.ejected, false);
});

test('passive health: connect errors eject a target (requests meanwhile retried on the other)', async (t) => {
  const a = await switchableOrigin();
  t.after(() => a.close());
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const gw = await startGateway(files([a.url, dead], '{ failures: 2, ejectFor: 30s }'));
  t.after(() => gw.close());
  assert.deepEqual(new Set(await get(`${gw.url}/x`, 10)), new Set([200]));
  const d = gw.gateway.serviceSet.get('svc')!.describe();
  assert.equal(d.targets[1]!.ejected, true);
  assert.equal(d.targets[0]!.ejected, false);
});

test('passive health: upstream timeouts count as failures', async (t) => {
  const a = await switchableOrigin();
  const b = await switchableOrigin();
  b.health = 'hang';
  t.after(() => Promise.all([a.close(), b.close()]));
  // Requests to /healthz hang on b; the service timeout turns them into 504s.
  const gw = await startGateway(files([a.url, b.url], '{ failures: 2, ejectFor: 30s }', '    timeout: 500ms\n'));
  t.after(() => gw.close());
  assert.deepEqual(await get(`${gw.url}/healthz`, 4), [200, 504, 200, 504]);
  assert.equal(gw.gateway.serviceSet.get('svc')!.describe().targets[1]!.ejected, true);
  assert.deepEqual(await get(`${gw.url}/healthz`, 4), [200, 200, 200, 200]);
});

test('passive health rules: a success resets the count; failures while ejected do not extend it; the count restarts after', async (t) => {
  const dir = await configDir(files(['http://127.0.0.1:1'], '{}'));
  t.after(() => dir.cleanup());
  const entry = (await loadConfig({ configFile: dir.configFile })).services.get('svc')!;
  const target = new UpstreamTarget('http://127.0.0.1:1', 1, entry);
  t.after(() => target.close());
  let now = 1_000;
  const ejections: number[] = [];
  target.onOutcome(passiveHealth({ failures: 3, ejectFor: 100 }, (_t, until) => ejections.push(until), () => now));

  for (const ok of [false, false, true, false, false]) target.observe(1, ok);
  assert.equal(target.ejected(now), false);
  target.observe(1, false);
  assert.deepEqual(ejections, [1_100]);
  assert.equal(target.available(now), false);
  now = 1_050;
  for (let i = 0; i < 5; i++) target.observe(1, false);
  assert.deepEqual(ejections, [1_100]);
  now = 1_100;
  assert.equal(target.available(now), true);
  target.observe(1, false);
  target.observe(1, false);
  assert.equal(target.ejected(now), false);
  target.observe(1, false);
  assert.deepEqual(ejections, [1_100, 1_200]);
});
