import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { configDir, configErrors } from '../helpers/gateway.js';

const errorsOf = (routeYaml: string): Promise<string[]> => configErrors({ 'routes.d/a.yaml': routeYaml }, {});

const service = (extra: string) => `services:\n  svc:\n    discovery: { static: ["http://127.0.0.1:1"] }\n${extra}routes:\n  - id: r\n    match: { path: /x }\n    upstream: { service: svc }\n`;

test('circuitBreaker, retry and fallback are filled with their defaults', async () => {
  const dir = await configDir({
    'routes.d/a.yaml': `${service('    circuitBreaker: {}\n    retry: {}\n')}    fallback: { cache: stale }\n`,
  });
  try {
    const snap = await loadConfig({ configFile: dir.configFile, env: {} });
    const svc = snap.services.get('svc')!;
    assert.deepEqual(svc.circuitBreaker, {
      errorThresholdPercentage: 50,
      volumeThreshold: 20,
      resetTimeout: 10_000,
      rollingWindow: 10_000,
      failOn: ['connect-error', 'timeout', 'reset', '5xx'],
    });
    assert.deepEqual(svc.retry, {
      attempts: 2,
      backoff: 25,
      on: ['connect-error', 'reset', 502, 503, 504],
      methods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'],
      budget: { percent: 20, minPerSecond: 3, window: 10_000 },
      maxBodySize: 65_536,
    });
    assert.deepEqual(snap.routes[0]!.fallback, { cache: 'stale', on: ['unavailable', 'circuit-open'] });
  } finally {
    await dir.cleanup();
  }
});

test('without circuitBreaker or retry blocks the service has neither', async () => {
  const dir = await configDir({ 'routes.d/a.yaml': service('') });
  try {
    const svc = (await loadConfig({ configFile: dir.configFile, env: {} })).services.get('svc')!;
    assert.equal(svc.circuitBreaker, undefined);
    assert.equal(svc.retry, undefined);
  } finally {
    await dir.cleanup();
  }
});

test('bad resilience settings are errors at FILE:LINE:COL naming the key', async () => {
  const errors = await errorsOf(
    service(
      '    circuitBreaker: { volumeTreshold: 3, rollingWindow: 10ms }\n' +
        '    retry:\n      attempts: -1\n      on: [connect-error, 200]\n      budget: { percent: 150 }\n',
    ) + '    fallback: {}\n',
  );
  assert.deepEqual(errors.sort(), [
    'routes.d/a.yaml:4:23 services.svc.circuitBreaker.volumeTreshold: unknown key "volumeTreshold" (did you mean "volumeThreshold"?)',
    'routes.d/a.yaml:6:7 services.svc.retry.attempts: must be >= 0',
    'routes.d/a.yaml:7:27 services.svc.retry.on[1]: must be connect-error, timeout, reset or a status code 400-599',
    'routes.d/a.yaml:8:17 services.svc.retry.budget.percent: must be <= 100',
  ].sort());
});

test('a circuitBreaker rolling window under 100ms and an empty fallback are refused', async () => {
  const errors = await errorsOf(`${service('    circuitBreaker: { rollingWindow: 10ms }\n')}    fallback: {}\n`);
  assert.deepEqual(errors, [
    'routes.d/a.yaml:4:23 services.svc.circuitBreaker.rollingWindow: must be at least 100ms',
    'routes.d/a.yaml:9:5 routes[0].fallback: needs a static response (status, headers, body) or cache: stale',
  ]);
});

test('fallback keys are checked', async () => {
  const errors = await errorsOf(`${service('')}    fallback: { cache: fresh, status: 99, on: [sometimes] }\n`);
  assert.deepEqual(errors.sort(), [
    'routes.d/a.yaml:8:17 routes[0].fallback.cache: must be stale',
    'routes.d/a.yaml:8:31 routes[0].fallback.status: must be >= 200',
    'routes.d/a.yaml:8:48 routes[0].fallback.on[0]: must be unavailable, circuit-open, timeout or bad-gateway',
  ].sort());
});
