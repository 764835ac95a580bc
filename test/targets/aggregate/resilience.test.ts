import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { startGateway } from '../../helpers/gateway.js';
import { startOrigin } from '../../helpers/upstream.js';

test('aggregate backends go through the service breaker and retry: an open circuit stops upstream hits', async (t) => {
  const users = await startOrigin((_req, res) => res.end(JSON.stringify({ name: 'ada' })));
  const flaky = await startOrigin((_req, res) => {
    res.statusCode = 500;
    res.end('{}');
  });
  t.after(() => Promise.all([users.close(), flaky.close()]).then(() => undefined));
  const gw = await startGateway({
    'routes.d/a.yaml': `services:
  users:
    discovery: { static: ["${users.url}"] }
  flaky:
    discovery: { static: ["${flaky.url}"] }
    circuitBreaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeout: 1m }
    retry: { attempts: 1, backoff: 1ms, on: [500] }
routes:
  - id: dash
    match: { path: /dash, methods: [GET] }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: flaky, path: /f, as: extra, optional: true }
`,
  });
  t.after(() => gw.close());
  const results: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await request(`${gw.url}/dash`);
    assert.equal(res.statusCode, 200);
    results.push(String(res.headers['x-gatehouse-completed']));
    const body = (await res.body.json()) as { user: unknown; extra: unknown };
    assert.deepEqual(body.user, { name: 'ada' });
    assert.equal(body.extra, null);
  }
  assert.deepEqual([...new Set(results)], ['false']);
  // 500s are retried once each until the breaker opens after 3 failures; then nothing reaches the origin.
  const hitsWhenOpen = flaky.seen.length;
  assert.ok(hitsWhenOpen >= 3 && hitsWhenOpen <= 4, `flaky saw ${hitsWhenOpen} requests`);
  for (let i = 0; i < 3; i++) await (await request(`${gw.url}/dash`)).body.dump();
  assert.equal(flaky.seen.length, hitsWhenOpen, 'an open circuit is not called');
});
