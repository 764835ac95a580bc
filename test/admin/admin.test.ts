import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { ConfigError, formatIssue } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/load.js';
import { configDir, routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';
import { selfSignedCert } from '../helpers/tls.js';

const ROUTES = (target: string) =>
  routeFile([target], `  - id: orders\n    match: { path: /orders/*, methods: [GET] }\n    upstream: { service: svc }\n    plugins:\n      - headers: { request: { set: { authorization: "Bearer supersecret" } } }\n`);

async function adminGateway(t: { after: (f: () => Promise<void>) => void }, token = '') {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'gatehouse.yaml': `admin: { host: 127.0.0.1, port: 0${token ? `, token: "${token}"` : ''} }\nredis: { url: "redis://user:hunter2@127.0.0.1:6379/0" }\n`,
    'routes.d/a.yaml': ROUTES(origin.url),
  });
  t.after(() => gw.close());
  const admin = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
  return { gw, admin, origin };
}

test('probes, routes, services and config answer on the admin port', async (t) => {
  const { admin, origin } = await adminGateway(t);
  const health = await request(`${admin}/healthz`);
  assert.equal(health.statusCode, 200);
  assert.deepEqual(await health.body.json(), { status: 'ok' });
  const ready = await request(`${admin}/readyz`);
  assert.equal(ready.statusCode, 200);
  await ready.body.dump();
  const routes = (await (await request(`${admin}/routes`)).body.json()) as { routes: { id: string; target: unknown; plugins: string[] }[] };
  assert.deepEqual(routes.routes.map((r) => [r.id, r.target, r.plugins]), [['orders', { kind: 'proxy', service: 'svc' }, ['headers']]]);
  const services = (await (await request(`${admin}/services`)).body.json()) as { services: { name: string; targets: { url: string; inflight: number; healthy: boolean }[] }[] };
  assert.equal(services.services[0]!.name, 'svc');
  assert.equal(services.services[0]!.targets[0]!.url, origin.url);
  assert.equal(services.services[0]!.targets[0]!.inflight, 0);
  const config = JSON.stringify(await (await request(`${admin}/config`)).body.json());
  assert.doesNotMatch(config, /supersecret|hunter2/);
  assert.match(config, /\[redacted\]/);
});

test('with admin.token every endpoint but the probes needs the bearer token', async (t) => {
  const { admin } = await adminGateway(t, 's3cret-token');
  for (const path of ['/routes', '/services', '/config']) {
    const res = await request(`${admin}${path}`);
    assert.equal(res.statusCode, 401, path);
    assert.equal(((await res.body.json()) as { code: string }).code, 'UNAUTHENTICATED');
    const wrong = await request(`${admin}${path}`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    await wrong.body.dump();
    const right = await request(`${admin}${path}`, { headers: { authorization: 'Bearer s3cret-token' } });
    assert.equal(right.statusCode, 200, path);
    await right.body.dump();
  }
  const reload = await request(`${admin}/reload`, { method: 'POST' });
  assert.equal(reload.statusCode, 401);
  await reload.body.dump();
  for (const path of ['/healthz', '/readyz']) {
    const res = await request(`${admin}${path}`);
    assert.equal(res.statusCode, 200, path);
    await res.body.dump();
  }
});

test('POST /reload applies a valid change (200) and refuses an invalid one (422) keeping the old routes', async (t) => {
  const { gw, admin, origin } = await adminGateway(t);
  await gw.dir.write('routes.d/b.yaml', `routes:\n  - id: extra\n    match: { path: /extra }\n    upstream: { service: svc }\n`);
  const ok = await request(`${admin}/reload`, { method: 'POST' });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(await ok.body.json(), { ok: true, generation: 2 });
  const extra = await request(`${gw.url}/extra`);
  assert.equal(extra.statusCode, 200);
  await extra.body.dump();
  await gw.dir.write('routes.d/b.yaml', `routes:\n  - id: extra\n    match: { path: /extra }\n    upstream: { service: svx }\n`);
  const bad = await request(`${admin}/reload`, { method: 'POST' });
  assert.equal(bad.statusCode, 422);
  const body = (await bad.body.json()) as { ok: boolean; errors: string[] };
  assert.equal(body.ok, false);
  assert.match(body.errors[0]!, /routes\.d\/b\.yaml:4:17 routes\[0\]\.upstream\.service: unknown service "svx" \(did you mean "svc"\?\)/);
  const still = await request(`${gw.url}/extra`);
  assert.equal(still.statusCode, 200);
  await still.body.dump();
  assert.ok(origin.seen.length >= 2);
});

test('an admin host that is not loopback needs a token', async (t) => {
  const dir = await configDir({ 'gatehouse.yaml': 'admin:\n  host: 0.0.0.0\n' });
  t.after(() => dir.cleanup());
  const err = await loadConfig({ configFile: dir.configFile }).catch((e: unknown) => e);
  assert.ok(err instanceof ConfigError);
  assert.match(formatIssue(err.issues[0]!), /gatehouse\.yaml:2:3 admin\.host: admin\.host 0\.0\.0\.0 is not a loopback address: set admin\.token/);
  await dir.write('gatehouse.yaml', 'admin:\n  host: 0.0.0.0\n  token: abc\n');
  const ok = await loadConfig({ configFile: dir.configFile });
  assert.equal(ok.settings.admin.host, '0.0.0.0');
});

test('GET /config lists the streams with where they are defined, without the TLS key read at load', async (t) => {
  const { cert, key } = selfSignedCert();
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { host: 127.0.0.1, port: 0 }\n',
    'routes.d/s.yaml': 'services:\n  db:\n    protocol: tcp\n    discovery: { static: ["tcp://127.0.0.1:5432"] }\nstreams:\n  - { id: pg, listen: 0, service: db, tls: { cert: c.pem, key: k.pem } }\n',
    'routes.d/c.pem': cert,
    'routes.d/k.pem': key,
  });
  t.after(() => gw.close());
  const config = (await (await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/config`)).body.json()) as { streams: { id: string; tls: unknown; at: string }[] };
  assert.deepEqual(config.streams.map((s) => ({ id: s.id, tls: s.tls })), [{ id: 'pg', tls: { cert: 'c.pem', key: '[redacted]' } }]);
  assert.match(config.streams[0]!.at, /routes\.d\/s\.yaml:6:5$/);
  assert.doesNotMatch(JSON.stringify(config), /PRIVATE KEY/);
});
