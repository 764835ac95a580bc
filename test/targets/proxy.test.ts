import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

test('proxies a GET with stripPrefix and keeps the query string', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc, stripPrefix: /api }\n`),
  });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/orders/7?x=1&y=2`);
  assert.equal(res.statusCode, 200);
  const body = (await res.body.json()) as { url: string };
  assert.equal(body.url, '/orders/7?x=1&y=2');
  assert.equal(origin.seen.length, 1);
});
