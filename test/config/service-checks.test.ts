import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { BALANCER_NAMES } from '../../src/config/schema.js';
import { configDir, configErrors } from '../helpers/gateway.js';

const errorsOf = (service: string): Promise<string[]> =>
  configErrors({ 'routes.d/a.yaml': `services:\n  svc:\n    discovery: { static: ["http://127.0.0.1:1"] }\n${service}routes:\n  - { id: r, match: { path: /* }, upstream: { service: svc } }\n` });

test('config: consistent-hash without hashKey is an error at the loadBalancer key', async () => {
  const errors = await errorsOf('    loadBalancer: consistent-hash\n');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /a\.yaml:4:5 services\.svc\.loadBalancer: consistent-hash needs hashKey/);
});

test('config: a hashKey of another form is an error naming the forms', async () => {
  const errors = await errorsOf('    loadBalancer: consistent-hash\n    hashKey: body:user\n');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /a\.yaml:5:5 services\.svc\.hashKey: must be ip, path, header:NAME, cookie:NAME, query:NAME or jwt:CLAIM/);
});

test('config: every balancer name loads; an unknown one lists them', async () => {
  for (const name of BALANCER_NAMES) {
    const extra = name === 'consistent-hash' ? '    hashKey: ip\n' : '';
    assert.deepEqual(await errorsOf(`    loadBalancer: ${name}\n${extra}`), [], name);
  }
  const errors = await errorsOf('    loadBalancer: fastest\n');
  assert.match(errors[0]!, /services\.svc\.loadBalancer: must be one of round-robin, weighted-round-robin, least-connections, consistent-hash, p2c-ewma, random/);
});

test('config: healthCheck defaults are filled (active: {} and passive: {})', async () => {
  const dir = await configDir({
    'routes.d/a.yaml': `services:
  svc:
    discovery: { static: ["http://127.0.0.1:1"] }
    healthCheck: { active: {}, passive: {} }
`,
  });
  try {
    const snap = await loadConfig({ configFile: dir.configFile });
    const hc = snap.services.get('svc')!.healthCheck;
    assert.deepEqual(hc.active, { path: '/healthz', interval: 5000, timeout: 1000, healthy: 2, unhealthy: 3 });
    assert.deepEqual(hc.passive, { failures: 5, ejectFor: 30000 });
  } finally {
    await dir.cleanup();
  }
});

test('config: a zero interval or timeout, a zero ejectFor, unknown keys and a relative path are errors', async () => {
  const zero = (await errorsOf('    healthCheck: { active: { interval: 0, timeout: 0 }, passive: { ejectFor: 0 } }\n')).join('\n');
  assert.match(zero, /healthCheck\.active\.interval: must be at least 1ms/);
  assert.match(zero, /healthCheck\.active\.timeout: must be at least 1ms/);
  assert.match(zero, /healthCheck\.passive\.ejectFor: must be at least 1ms/);
  assert.match((await errorsOf('    healthCheck: { passive: { failure: 3 } }\n'))[0]!, /healthCheck\.passive\.failure: unknown key "failure" \(did you mean "failures"\?\)/);
  assert.match((await errorsOf('    healthCheck: { active: { path: healthz } }\n'))[0]!, /healthCheck\.active\.path: must start with \//);
});
