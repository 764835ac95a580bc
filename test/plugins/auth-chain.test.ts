/** Auth plugins answer in onRequest: for a refused request no later plugin hook runs and nothing reaches the upstream. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

const SECRET = 'a-test-secret-that-is-32-bytes-long!!';
const typebox = import.meta.resolve('@sinclair/typebox');

/** A custom plugin that counts each of its hooks in a global the test reads. */
const counter = `import { Type } from ${JSON.stringify(typebox)};
globalThis.__hookCalls = globalThis.__hookCalls ?? [];
export default {
  name: 'counter',
  config: Type.Object({}),
  create() {
    const seen = (hook) => async () => { globalThis.__hookCalls.push(hook); };
    return { onRequest: seen('onRequest'), preHandler: seen('preHandler') };
  },
};
`;

declare global {
  var __hookCalls: string[] | undefined;
}

test('a refused request runs no later plugin hook (onRequest or preHandler) for jwt, oauth2 and api-key', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const sha = createHash('sha256').update('right-key').digest('hex');
  const plugins = (auth: string) => `    plugins:\n      - ${auth}\n      - counter\n`;
  const gw = await startGateway({
    'plugins/counter.mjs': counter,
    'routes.d/a.yaml': routeFile(
      [origin.url],
      `  - id: j\n    match: { path: /j }\n    upstream: { service: svc }\n${plugins(`jwt: { secret: ${JSON.stringify(SECRET)} }`)}` +
        `  - id: o\n    match: { path: /o }\n    upstream: { service: svc }\n${plugins('oauth2: { introspectionUrl: "http://127.0.0.1:9/introspect", clientId: a, clientSecret: b, timeout: 200ms }')}` +
        `  - id: k\n    match: { path: /k }\n    upstream: { service: svc }\n${plugins(`api-key: { keys: [ { consumer: c, sha256: ${sha} } ] }`)}`,
    ),
  });
  t.after(() => gw.close());
  globalThis.__hookCalls = [];
  for (const [path, headers, status] of [
    ['/j', {}, 401],
    ['/j', { authorization: 'Bearer a.b.c' }, 401],
    ['/o', {}, 401],
    ['/o', { authorization: 'Bearer opaque' }, 503],
    ['/k', { 'x-api-key': 'wrong-key' }, 401],
  ] as [string, Record<string, string>, number][]) {
    const res = await request(`${gw.url}${path}`, { headers });
    await res.body.dump();
    assert.equal(res.statusCode, status, path);
  }
  assert.deepEqual(globalThis.__hookCalls, [], 'no hook after the auth plugin ran');
  assert.equal(origin.seen.length, 0);
  const ok = await request(`${gw.url}/k`, { headers: { 'x-api-key': 'right-key' } });
  await ok.body.dump();
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(globalThis.__hookCalls, ['onRequest', 'preHandler'], 'the counter does run for an accepted request');
});
