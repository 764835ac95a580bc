import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { rawRequest } from '../../helpers/raw-client.js';
import { startOrigin } from '../../helpers/upstream.js';

const PLUGIN = `    plugins:
      - headers:
          request:
            set: { x-user-id: "u-{params.id}", x-route: orders, x-q: "{query.q}", x-h: "{header.x-in}" }
            add: { x-trail: gatehouse }
            remove: [cookie]
            rename: { x-old: x-new }
          response:
            set: { cache-control: no-store }
            add: { x-powered: gw }
            remove: [x-internal]
            rename: { x-up: x-down }
`;

async function setup(t: { after: (f: () => Promise<void>) => void }) {
  const origin = await startOrigin((_req, res) => {
    res.setHeader('x-internal', 'secret');
    res.setHeader('x-up', 'renamed');
    res.setHeader('x-powered', 'origin');
    res.end('ok');
  });
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], `  - id: h\n    match: { path: /h/:id }\n    upstream: { service: svc }\n${PLUGIN}`) });
  t.after(() => gw.close());
  return { gw, origin };
}

test('request headers: set (with templates), add, remove, rename', async (t) => {
  const { gw, origin } = await setup(t);
  const res = await request(`${gw.url}/h/42?q=find`, { headers: { cookie: 'a=b', 'x-old': 'moved', 'x-trail': 'client', 'x-in': 'copied' } });
  await res.body.dump();
  const h = origin.seen[0]!.headers;
  assert.equal(h['x-user-id'], 'u-42');
  assert.equal(h['x-route'], 'orders');
  assert.equal(h['x-q'], 'find');
  assert.equal(h['x-h'], 'copied');
  assert.equal(h['x-trail'], 'client, gatehouse');
  assert.equal(h.cookie, undefined);
  assert.equal(h['x-old'], undefined);
  assert.equal(h['x-new'], 'moved');
});

test('response headers: set, add, remove, rename', async (t) => {
  const { gw } = await setup(t);
  const res = await request(`${gw.url}/h/1`);
  await res.body.dump();
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.headers['x-powered'], 'origin, gw');
  assert.equal(res.headers['x-internal'], undefined);
  assert.equal(res.headers['x-up'], undefined);
  assert.equal(res.headers['x-down'], 'renamed');
});

test('a header the gateway sets reaches the upstream as exactly one line, whatever copies, casings or Connection names the client sent', async (t) => {
  const { gw, origin } = await setup(t);
  const res = await rawRequest(
    gw.gateway.address().port,
    'GET /h/7 HTTP/1.1\r\nHost: x\r\nX-User-Id: evil\r\nx-user-id: evil2\r\nX-USER-ID: evil3\r\nConnection: close, x-user-id\r\n\r\n',
  );
  assert.equal(res.status, 200);
  assert.equal(origin.seen[0]!.headers['x-user-id'], 'u-7');
});

test('template values outside Latin-1 go as UTF-8 bytes instead of failing the request', async (t) => {
  const { gw, origin } = await setup(t);
  const res = await request(`${gw.url}/h/${encodeURIComponent('😀')}`);
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  assert.equal(Buffer.from(String(origin.seen[0]!.headers['x-user-id']), 'latin1').toString('utf8'), 'u-😀');
});

test('an empty headers config is inactive and costs nothing', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], `  - id: h\n    match: { path: /h }\n    upstream: { service: svc }\n    plugins:\n      - headers: {}\n`) });
  t.after(() => gw.close());
  assert.deepEqual(gw.gateway.app.chains.get('h'), []);
});
