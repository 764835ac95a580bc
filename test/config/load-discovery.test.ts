import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, formatIssue } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/load.js';
import { configDir } from '../helpers/gateway.js';

const ROUTE = 'routes:\n  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n';

/** Loads a gatehouse.yaml and one route file whose service `svc` has the given `discovery:` body (indented 6). */
async function load(t: { after(fn: () => Promise<void>): void }, discovery: string, settings = 'admin: { enabled: false }\n') {
  const dir = await configDir({ 'gatehouse.yaml': settings, 'routes.d/svc.yaml': `services:\n  svc:\n    discovery:\n${discovery}${ROUTE}` });
  t.after(() => dir.cleanup());
  try {
    return { snapshot: await loadConfig({ configFile: dir.configFile }), errors: [] as string[] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // File names are absolute temp paths: keep the base name.
    return { snapshot: undefined, errors: err.issues.map((i) => formatIssue({ ...i, file: path.basename(i.file) })) };
  }
}

test('discovery with no provider is an error at the discovery key', async (t) => {
  const { errors } = await load(t, '      {}\n');
  assert.deepEqual(errors, ['svc.yaml:3:5 services.svc.discovery: needs exactly one provider: static, dns, etcd, redis']);
});

test('discovery with two providers is an error at the second', async (t) => {
  const { errors } = await load(t, '      static: [http://127.0.0.1:1]\n      dns: { name: x.test }\n');
  assert.deepEqual(errors, ['svc.yaml:5:7 services.svc.discovery.dns: has more than one provider (static, dns); keep one']);
});

test('redis discovery without gatehouse.yaml redis is an error', async (t) => {
  const { errors } = await load(t, '      redis: { key: services:svc }\n');
  assert.deepEqual(errors, ['svc.yaml:4:7 services.svc.discovery.redis: redis discovery needs the `redis` settings in gatehouse.yaml (redis.url or redis.cluster)']);
});

test('redis discovery carries the redis settings and its key verbatim', async (t) => {
  const { snapshot, errors } = await load(t, '      redis: { key: services:svc }\n', 'admin: { enabled: false }\nredis: { url: "redis://127.0.0.1:6379/0", keyPrefix: "gh:" }\n');
  assert.deepEqual(errors, []);
  const svc = snapshot!.services.get('svc')!;
  assert.equal(svc.discovery.redis?.key, 'services:svc');
  assert.equal(svc.discoveryRedis?.url, 'redis://127.0.0.1:6379/0');
  assert.deepEqual(svc.targets, []);
});

test('dns discovery defaults: SRV, refresh 10s, and a bad server address is an error at its item', async (t) => {
  const ok = await load(t, '      dns: { name: _http._tcp.orders.test }\n');
  assert.deepEqual(ok.errors, []);
  const dns = ok.snapshot!.services.get('svc')!.discovery.dns!;
  assert.equal(dns.type, 'SRV');
  assert.equal(dns.refresh, 10_000);
  assert.equal(dns.port, undefined);

  const bad = await load(t, '      dns:\n        name: orders.test\n        type: A\n        servers: ["127.0.0.1:53", "not an address"]\n');
  assert.deepEqual(bad.errors, ['svc.yaml:7:35 services.svc.discovery.dns.servers[1]: "not an address" is not a DNS server address (write 10.0.0.2, 10.0.0.2:53 or [::1]:53)']);
});

test('etcd discovery needs endpoints and a prefix; an endpoint with a path is an error', async (t) => {
  const missing = await load(t, '      etcd: { endpoints: [http://127.0.0.1:2379] }\n');
  assert.equal(missing.errors.length, 1);
  assert.match(missing.errors[0]!, /^svc\.yaml:4:7 services\.svc\.discovery\.etcd/);
  assert.match(missing.errors[0]!, /prefix/);
  const path = await load(t, '      etcd: { endpoints: [http://127.0.0.1:2379/v3], prefix: /services/svc/ }\n');
  assert.deepEqual(path.errors, ['svc.yaml:4:27 services.svc.discovery.etcd.endpoints[0]: "http://127.0.0.1:2379/v3" must be an http(s)://host:port URL without a path']);
});

test('static discovery is unchanged: targets checked against the protocol', async (t) => {
  const { errors } = await load(t, '      static: [http://127.0.0.1:1, "https://127.0.0.1:2"]\n');
  assert.deepEqual(errors, ['svc.yaml:4:36 services.svc.discovery.static[1]: target "https://127.0.0.1:2" does not match the service protocol http']);
});
