import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { waitUntil } from '../../helpers/wait-until.js';
import { closed, nextMessage, NotUpgraded, openWs, rawUntilClosed, startWsOrigin, type WsOrigin } from '../../helpers/ws-origin.js';

type T = { after: (fn: () => Promise<void> | void) => void };
const WS_ROUTE = `  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, stripPrefix: /chat, websocket: true }\n  - id: plain\n    match: { path: /plain/* }\n    upstream: { service: svc }\n`;

async function setup(t: T, origins: WsOrigin[], serviceExtra = ''): Promise<RunningGateway> {
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile(origins.map((o) => o.url), WS_ROUTE, serviceExtra) });
  t.after(() => gw.close());
  return gw;
}

async function origin(t: T): Promise<WsOrigin> {
  const o = await startWsOrigin();
  t.after(() => o.close());
  return o;
}

const wsUrl = (gw: RunningGateway, path: string) => `${gw.url.replace('http:', 'ws:')}${path}`;

test('text and binary messages echo both ways through the gateway', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const ws = await openWs(wsUrl(gw, '/chat/room/1?lang=en'));
  t.after(() => ws.terminate());
  ws.send('hello');
  const text = await nextMessage(ws);
  assert.equal(text.binary, false);
  assert.equal(text.data.toString(), 'hello');
  const bytes = randomBytes(1000);
  ws.send(bytes);
  const bin = await nextMessage(ws);
  assert.equal(bin.binary, true);
  assert.deepEqual(bin.data, bytes);
  // stripPrefix applies to the upgrade request as to plain requests; the query is kept
  assert.equal(o.upgrades[0]!.url, '/room/1?lang=en');
});

test('the upstream upgrade request carries X-Forwarded-*, x-request-id and the WebSocket headers', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const ws = await openWs(wsUrl(gw, '/chat/x'), { 'x-request-id': 'ws-req-1' }, ['chat.v1']);
  t.after(() => ws.terminate());
  const h = o.upgrades[0]!.headers;
  assert.equal(h['x-request-id'], 'ws-req-1');
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h.upgrade, 'websocket');
  assert.match(String(h.connection), /upgrade/i);
  assert.equal(h['sec-websocket-version'], '13');
  assert.equal(h['sec-websocket-protocol'], 'chat.v1');
  // the subprotocol the origin chose comes back
  assert.equal(ws.protocol, 'chat.v1');
});

test('the 101 carries the target\'s handshake headers and x-request-id, minus Server, X-Powered-By and hideHeaders', async (t) => {
  const o = await startWsOrigin({ handshakeHeaders: ['Server: ws-origin/1.0', 'X-Powered-By: node', 'X-Backend: b-7', 'X-Room: lobby'] });
  t.after(() => o.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([o.url], `  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true, hideHeaders: [x-backend] }\n`),
  });
  t.after(() => gw.close());
  const ws = await openWs(wsUrl(gw, '/chat/h'), { 'x-request-id': 'ws-req-2' });
  t.after(() => ws.terminate());
  const h = ws.handshake;
  assert.equal(h['x-room'], 'lobby');
  assert.equal(h['x-request-id'], 'ws-req-2');
  assert.ok(h['sec-websocket-accept']);
  assert.equal(h.server, undefined);
  assert.equal(h['x-powered-by'], undefined);
  assert.equal(h['x-backend'], undefined);
});

test('a 5 MB message arrives intact in both directions', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const ws = await openWs(wsUrl(gw, '/chat/big'));
  t.after(() => ws.terminate());
  const big = randomBytes(5 * 1024 * 1024);
  ws.send(big);
  const back = await nextMessage(ws);
  assert.equal(back.data.length, big.length);
  assert.ok(back.data.equals(big));
});

test('a close code from the client reaches the upstream', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const ws = await openWs(wsUrl(gw, '/chat/c'));
  const upstreamSaw = o.nextClose();
  const clientSaw = closed(ws);
  ws.close(4001, 'client leaves');
  assert.equal(await upstreamSaw, 4001);
  assert.equal(await clientSaw, 4001); // the origin's answering close frame comes back too
});

test('a close code from the upstream reaches the client', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const ws = await openWs(wsUrl(gw, '/chat/c'));
  const clientSaw = closed(ws);
  const upstreamSaw = o.nextClose();
  ws.send('close:4002');
  assert.equal(await clientSaw, 4002);
  assert.equal(await upstreamSaw, 4002); // the client's answering close frame
});

test('round-robin over two targets gives each one connection', async (t) => {
  const a = await origin(t);
  const b = await origin(t);
  const gw = await setup(t, [a, b]);
  const first = await openWs(wsUrl(gw, '/chat/1'));
  const second = await openWs(wsUrl(gw, '/chat/2'));
  t.after(() => {
    first.terminate();
    second.terminate();
  });
  assert.equal(a.upgrades.length, 1);
  assert.equal(b.upgrades.length, 1);
});

test('least-connections counts an open WebSocket for its whole life', async (t) => {
  const a = await origin(t);
  const b = await origin(t);
  const gw = await setup(t, [a, b], '    loadBalancer: least-connections\n');
  const held = await openWs(wsUrl(gw, '/chat/held'));
  t.after(() => held.terminate());
  const holder = a.upgrades.length === 1 ? a : b;
  const other = holder === a ? b : a;
  // while the first socket stays open, every new connection goes to the other target
  const otherTarget = gw.gateway.serviceSet.get('svc')!.list().find((x) => x.url === other.url)!;
  for (let i = 0; i < 3; i++) {
    const ws = await openWs(wsUrl(gw, `/chat/${i}`));
    const gone = closed(ws);
    ws.close(1000);
    await gone;
    // released once the gateway saw both of its sockets close
    await waitUntil(() => otherTarget.inflight === 0, 'the closed connection is no longer counted');
  }
  assert.equal(holder.upgrades.length, 1);
  assert.equal(other.upgrades.length, 3);
});

test('a route without websocket: true answers an upgrade with a plain HTTP response, never a 101', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const err = await openWs(wsUrl(gw, '/plain/x')).then(
    () => assert.fail('upgraded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NotUpgraded, String(err));
  // the origin's plain handler answered (Upgrade is hop-by-hop and was not forwarded)
  assert.equal(err.status, 200);
  assert.equal(err.body, 'plain http');
  assert.equal(o.upgrades.length, 0);
});

test('an upgrade that matches no route gets 404 ROUTE_NOT_FOUND as problem+json and the socket closes', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const res = await rawUntilClosed(gw.gateway.address().port, 'GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  assert.equal(res.status, 404);
  assert.match(res.headers['content-type']!, /^application\/problem\+json/);
  assert.equal(res.headers.connection, 'close');
  assert.equal((JSON.parse(res.body) as { code: string }).code, 'ROUTE_NOT_FOUND');
});

test('a non-WebSocket upgrade on a websocket route is refused with 400', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const res = await rawUntilClosed(gw.gateway.address().port, 'GET /chat/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
  assert.equal(res.status, 400);
  assert.equal((JSON.parse(res.body) as { code: string }).code, 'BAD_REQUEST');
  assert.equal(o.upgrades.length, 0);
});

test('a plain request on a websocket route is proxied as usual', async (t) => {
  const o = await origin(t);
  const gw = await setup(t, [o]);
  const res = await request(`${gw.url}/chat/page`);
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), 'plain http');
});
