import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import { routeFile, startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/wait-for.js';
import { closed, nextMessage, openWs, startWsOrigin, type WsOrigin } from '../../helpers/ws-origin.js';

type T = { after: (fn: () => Promise<void> | void) => void };
const ROUTE = `  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true }\n`;

async function setup(t: T, logger?: pino.Logger): Promise<{ gw: RunningGateway; origin: WsOrigin }> {
  const origin = await startWsOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], ROUTE) }, { logger });
  t.after(() => gw.close());
  return { gw, origin };
}

const wsUrl = (gw: RunningGateway, path: string) => `${gw.url.replace('http:', 'ws:')}${path}`;

async function roundTrip(ws: Awaited<ReturnType<typeof openWs>>, text: string): Promise<string> {
  ws.send(text);
  return (await nextMessage(ws)).data.toString();
}

test('gateway shutdown closes open WebSockets within the grace period, both sides', async (t) => {
  const { gw, origin } = await setup(t);
  const ws = await openWs(wsUrl(gw, '/chat/a'));
  assert.equal(await roundTrip(ws, 'before'), 'before');
  const clientClosed = closed(ws);
  const upstreamClosed = origin.nextClose();
  await gw.gateway.close(100);
  await clientClosed;
  await upstreamClosed;
  assert.equal(origin.sockets.size, 0);
});

test('an open WebSocket survives a reload that replaces its service, and new ones use the new config', async (t) => {
  const { gw, origin } = await setup(t);
  const ws = await openWs(wsUrl(gw, '/chat/a'));
  t.after(() => ws.terminate());
  // a changed service timeout makes a new service; the old one closes once its generation has drained
  await gw.dir.write('routes.d/a.yaml', routeFile([origin.url], ROUTE + `  - id: extra\n    match: { path: /extra/* }\n    upstream: { service: svc }\n`, '    timeout: 7s\n'));
  const result = await gw.gateway.reload();
  assert.equal(result.ok, true);
  assert.equal(await roundTrip(ws, 'after reload'), 'after reload');
  const fresh = await openWs(wsUrl(gw, '/chat/b'));
  assert.equal(await roundTrip(fresh, 'new one'), 'new one');
  fresh.terminate();
  assert.equal(await roundTrip(ws, 'still'), 'still');
});

test('gatehouse_websocket_connections counts open connections per route, and handshakes count as upstream requests', async (t) => {
  const { gw, origin } = await setup(t);
  const gauge = async () => /gatehouse_websocket_connections\{route="chat"\} (\d+)/.exec((await gw.gateway.metrics()).body)?.[1];
  const a = await openWs(wsUrl(gw, '/chat/a'));
  const b = await openWs(wsUrl(gw, '/chat/b'));
  assert.equal(await gauge(), '2');
  // each handshake is an upstream request like any other
  const text = (await gw.gateway.metrics()).body;
  assert.ok(text.includes(`gatehouse_upstream_requests_total{service="svc",target="${origin.url}",outcome="ok"} 2`), text);
  const gone = closed(a);
  a.close(1000);
  await gone;
  await waitFor(async () => (await gauge()) === '1', 'the gauge to drop to 1');
  b.terminate();
  await waitFor(async () => (await gauge()) === '0', 'the gauge to drop to 0');
});

test('the access log writes a line per upgrade with status 101 and the target, and one when it closes', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c)) as Record<string, unknown>), cb()) }));
  const { gw, origin } = await setup(t, logger);
  const ws = await openWs(wsUrl(gw, '/chat/a'));
  await waitFor(() => lines.some((l) => l.msg === 'request'), 'the access-log line');
  const line = lines.find((l) => l.msg === 'request')!;
  assert.equal(line.status, 101);
  assert.equal(line.route, 'chat');
  assert.equal(line.target, origin.url);
  ws.send('x'.repeat(1000));
  await nextMessage(ws);
  ws.close(1000);
  await waitFor(() => lines.some((l) => l.msg === 'websocket closed'), 'the closing line');
  const end = lines.find((l) => l.msg === 'websocket closed')!;
  assert.equal(end.route, 'chat');
  assert.equal(end.reqId, line.reqId);
  assert.equal(end.target, origin.url);
  assert.ok(['client', 'upstream'].includes(String(end.closedBy)), String(end.closedBy));
  assert.ok(Number(end.bytesIn) > 1000 && Number(end.bytesOut) > 1000, JSON.stringify(end));
});

test("the server's request and header timeouts do not cut an open WebSocket", async (t) => {
  const origin = await startWsOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { timeouts: { request: 300ms, headers: 200ms, keepAlive: 200ms } }\n',
    'routes.d/a.yaml': routeFile([origin.url], ROUTE),
  });
  t.after(() => gw.close());
  const ws = await openWs(wsUrl(gw, '/chat/long'));
  t.after(() => ws.terminate());
  await new Promise((r) => setTimeout(r, 1000)); // several request timeouts long
  assert.equal(await roundTrip(ws, 'still open'), 'still open');
});

test('a refused upgrade socket closes even while the client trickles bytes (a fixed linger, not an idle timeout)', async (t) => {
  const net = await import('node:net');
  const { gw } = await setup(t);
  const socket = net.connect({ port: gw.gateway.address().port, host: '127.0.0.1', allowHalfOpen: true });
  t.after(() => socket.destroy());
  socket.on('error', () => undefined);
  socket.write('GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  const trickle = setInterval(() => socket.writable && socket.write('x'), 500);
  t.after(() => clearInterval(trickle));
  await new Promise((resolve) => socket.once('close', resolve)); // without the fixed linger this never happens
  clearInterval(trickle);
  assert.match(answer, /^HTTP\/1\.1 404 /);
});

test('shutdown cuts a plain answer still streaming to an upgrade request at the end of the grace period', async (t) => {
  const http = await import('node:http');
  const net = await import('node:net');
  const origin = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n'); // and never ends
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.after(() => {
    origin.closeAllConnections();
    origin.close();
  });
  const url = `http://127.0.0.1:${(origin.address() as import('node:net').AddressInfo).port}`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([url], `  - id: events\n    match: { path: /events }\n    upstream: { service: svc }\n`) });
  const socket = net.connect(gw.gateway.address().port, '127.0.0.1');
  socket.on('error', () => undefined);
  t.after(() => socket.destroy());
  socket.write('GET /events HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n');
  let seen = '';
  await new Promise<void>((resolve) => socket.on('data', (d: Buffer) => ((seen += d.toString()), seen.includes('data: first') && resolve())));
  const socketClosed = new Promise((resolve) => socket.once('close', resolve));
  await gw.gateway.close(200); // without tracking the upgrade socket this never resolves
  await socketClosed;
  await gw.dir.cleanup();
  assert.match(seen, /^HTTP\/1\.1 200 /);
});
