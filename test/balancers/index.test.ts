import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { BALANCER_NAMES } from '../../src/config/schema.js';
import { startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

const SRC_INDEX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/index.ts');

test('every loadBalancer serves through the gateway and spreads requests over both targets', async (t) => {
  const a = await startOrigin();
  const b = await startOrigin();
  t.after(() => Promise.all([a.close(), b.close()]));
  for (const name of BALANCER_NAMES) {
    const gw = await startGateway({
      'routes.d/a.yaml': `services:
  svc:
    loadBalancer: ${name}
    hashKey: query:u
    discovery: { static: ["${a.url}", "${b.url}"] }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc } }
`,
    });
    const seenA = a.seen.length;
    const seenB = b.seen.length;
    try {
      for (let i = 0; i < 40; i++) {
        const res = await request(`${gw.url}/x?u=user${i}`);
        await res.body.dump();
        assert.equal(res.statusCode, 200, name);
      }
    } finally {
      await gw.close();
    }
    assert.ok(a.seen.length > seenA && b.seen.length > seenB, `${name}: ${a.seen.length - seenA} / ${b.seen.length - seenB}`);
  }
});

test('consistent-hash with hashKey jwt:CLAIM keys on the claims a plugin verified', async (t) => {
  const origins = await Promise.all([startOrigin(), startOrigin(), startOrigin()]);
  t.after(() => Promise.all(origins.map((o) => o.close())));
  const gw = await startGateway({
    // Stands in for the jwt plugin: puts claims where verified claims go.
    'plugins/claims.ts': `import { definePlugin, Type } from ${JSON.stringify(SRC_INDEX)};
export default definePlugin({
  name: 'claims',
  config: Type.Object({}),
  create() {
    return { onRequest: async (request) => { request.gatehouse = { jwt: { sub: String(request.headers['x-sub']) } }; } };
  },
});
`,
    'routes.d/a.yaml': `services:
  svc:
    loadBalancer: consistent-hash
    hashKey: jwt:sub
    discovery: { static: [${origins.map((o) => `"${o.url}"`).join(', ')}] }
routes:
  - { id: r, match: { path: /* }, upstream: { service: svc }, plugins: [claims] }
`,
  });
  t.after(() => gw.close());
  for (let round = 0; round < 3; round++) {
    for (let u = 0; u < 20; u++) {
      const res = await request(`${gw.url}/x`, { headers: { 'x-sub': `s${u}` } });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    }
  }
  const where = new Map<string, Set<number>>();
  origins.forEach((o, i) => {
    for (const s of o.seen) {
      const sub = String(s.headers['x-sub']);
      where.set(sub, (where.get(sub) ?? new Set()).add(i));
    }
  });
  assert.equal(where.size, 20);
  for (const [sub, set] of where) assert.equal(set.size, 1, `${sub} went to ${set.size} targets`);
  assert.ok(origins.filter((o) => o.seen.length > 0).length >= 2);
});
