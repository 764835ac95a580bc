import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

test('fallback { cache: stale } answers the cache plugin\'s expired copy with x-cache: STALE when the upstream is down', async (t) => {
  let n = 0;
  const origin = await startOrigin((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ version: ++n }));
  });
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [origin.url],
      `  - id: cached
    match: { path: /items, methods: [GET] }
    upstream: { service: svc }
    fallback: { cache: stale }
    plugins:
      - cache: { ttl: 200ms, grace: 1m }
`,
    ),
  });
  t.after(() => gw.close());
  const first = await request(`${gw.url}/items`);
  assert.equal(first.headers['x-cache'], 'MISS');
  assert.deepEqual(await first.body.json(), { version: 1 });
  const hit = await request(`${gw.url}/items`);
  assert.equal(hit.headers['x-cache'], 'HIT');
  await hit.body.dump();
  await new Promise((r) => setTimeout(r, 300)); // let the copy go stale
  await origin.close();
  const stale = await request(`${gw.url}/items`, { headers: { 'x-request-id': 'stale-1' } });
  assert.equal(stale.statusCode, 200);
  assert.equal(stale.headers['x-cache'], 'STALE');
  assert.equal(stale.headers['x-request-id'], 'stale-1');
  assert.deepEqual(await stale.body.json(), { version: 1 });
  const other = await request(`${gw.url}/items?page=2`);
  assert.equal(other.statusCode, 503, 'no copy for another key: the fallback has nothing to serve');
  await other.body.dump();
});
