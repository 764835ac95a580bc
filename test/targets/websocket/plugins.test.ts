import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { mint, secretKey } from '../../helpers/jwt.js';
import { NotUpgraded, nextMessage, openWs, rawUntilClosed, startWsOrigin, type WsOrigin } from '../../helpers/ws-origin.js';

type T = { after: (fn: () => Promise<void> | void) => void };
const key = secretKey('websocket-test-secret-of-32-bytes!');
const token = () => mint({ sub: 'ada' }, { alg: 'HS256', key });

const JWT_ROUTE =
  `  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true }\n` +
  `    plugins:\n      - jwt: { secret: ${JSON.stringify(key.publicPem)}, cookie: session, query: access_token, forward: { x-user-id: sub } }\n`;

async function setup(t: T, routes = JWT_ROUTE): Promise<{ gw: RunningGateway; origin: WsOrigin }> {
  const origin = await startWsOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], routes) });
  t.after(() => gw.close());
  return { gw, origin };
}

const wsUrl = (gw: RunningGateway, path: string) => `${gw.url.replace('http:', 'ws:')}${path}`;

async function refused(url: string, headers: Record<string, string> = {}): Promise<NotUpgraded> {
  const err = await openWs(url, headers).then(
    () => assert.fail('the gateway answered 101'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NotUpgraded, String(err));
  return err;
}

async function echoes(url: string, headers: Record<string, string> = {}): Promise<void> {
  const ws = await openWs(url, headers);
  ws.send('ping');
  assert.equal((await nextMessage(ws)).data.toString(), 'ping');
  ws.terminate();
}

test('jwt: an upgrade without a token gets 401 problem+json and the upstream never sees an upgrade', async (t) => {
  const { gw, origin } = await setup(t);
  const err = await refused(wsUrl(gw, '/chat/room'));
  assert.equal(err.status, 401);
  assert.match(String(err.headers['content-type']), /^application\/problem\+json/);
  assert.match(String(err.headers['www-authenticate']), /^Bearer/);
  assert.equal(origin.upgrades.length, 0);
});

test('jwt: a bad token is refused before the upgrade too', async (t) => {
  const { gw, origin } = await setup(t);
  const err = await refused(wsUrl(gw, '/chat/room'), { authorization: `Bearer ${token()}x` });
  assert.equal(err.status, 401);
  assert.equal(origin.upgrades.length, 0);
});

test('jwt: a token in the Authorization header opens the WebSocket, with claims forwarded', async (t) => {
  const { gw, origin } = await setup(t);
  await echoes(wsUrl(gw, '/chat/room'), { authorization: `Bearer ${token()}` });
  assert.equal(origin.upgrades[0]!.headers['x-user-id'], 'ada');
});

test('jwt: a token in the query opens the WebSocket and is cut from the forwarded URL', async (t) => {
  const { gw, origin } = await setup(t);
  await echoes(wsUrl(gw, `/chat/room?access_token=${token()}&lang=en`));
  assert.equal(origin.upgrades[0]!.url, '/chat/room?lang=en');
});

test('jwt: a token in a cookie opens the WebSocket', async (t) => {
  const { gw, origin } = await setup(t);
  await echoes(wsUrl(gw, '/chat/room'), { cookie: `theme=dark; session=${token()}` });
  assert.equal(origin.upgrades.length, 1);
});

test('the path is normalised before matching: /public/../chat still meets the jwt check', async (t) => {
  const { gw, origin } = await setup(t, JWT_ROUTE + `  - id: public\n    match: { path: /public/* }\n    upstream: { service: svc, websocket: true }\n`);
  const res = await rawUntilClosed(
    gw.gateway.address().port,
    'GET /public/../chat/room HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  assert.equal(res.status, 401);
  assert.equal(origin.upgrades.length, 0);
});

test('rate-limit: an upgrade over the limit gets 429 before any 101', async (t) => {
  const { gw, origin } = await setup(t, `  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true }\n    plugins:\n      - rate-limit: { limit: 1, window: 1h }\n`);
  await echoes(wsUrl(gw, '/chat/a'));
  const err = await refused(wsUrl(gw, '/chat/b'));
  assert.equal(err.status, 429);
  assert.match(String(err.headers['content-type']), /^application\/problem\+json/);
  assert.equal(origin.upgrades.length, 1);
});

test('cache: an upgrade on a cached route neither is answered from the cache nor holds back plain requests for the same URL', async (t) => {
  const { gw, origin } = await setup(t, `  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true }\n    plugins:\n      - cache: { ttl: 1m }\n`);
  const ws = await openWs(wsUrl(gw, '/chat/room'));
  ws.send('ping');
  assert.equal((await nextMessage(ws)).data.toString(), 'ping');
  // the upgrade's cache miss must be settled, or this request would wait for it
  const res = await request(`${gw.url}/chat/room`);
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), 'plain http');
  ws.terminate();
  // and with that GET now cached, the next upgrade still reaches the upstream and switches protocols
  const again = await openWs(wsUrl(gw, '/chat/room'));
  again.send('pong');
  assert.equal((await nextMessage(again)).data.toString(), 'pong');
  again.terminate();
  assert.equal(origin.upgrades.length, 2);
});
