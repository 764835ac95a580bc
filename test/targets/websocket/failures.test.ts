import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeFile, startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { closedPort, startRawOrigin } from '../../helpers/upstream.js';
import { NotUpgraded, nextMessage, openWs, startWsOrigin } from '../../helpers/ws-origin.js';

type T = { after: (fn: () => Promise<void> | void) => void };
const ROUTE = `  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true }\n`;

async function gateway(t: T, targets: string[], serviceExtra = ''): Promise<RunningGateway> {
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile(targets, ROUTE, serviceExtra) });
  t.after(() => gw.close());
  return gw;
}

async function refusal(gw: RunningGateway): Promise<NotUpgraded> {
  const err = await openWs(`${gw.url.replace('http:', 'ws:')}/chat/x`).then(
    () => assert.fail('the gateway answered 101'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof NotUpgraded, String(err));
  assert.match(String(err.headers['content-type']), /^application\/problem\+json/);
  return err;
}

const codeOf = (e: NotUpgraded) => (JSON.parse(e.body) as { code: string }).code;

test('a refused target answers 503 UPSTREAM_UNAVAILABLE before any 101', async (t) => {
  const gw = await gateway(t, [`http://127.0.0.1:${await closedPort()}`]);
  const err = await refusal(gw);
  assert.equal(err.status, 503);
  assert.equal(codeOf(err), 'UPSTREAM_UNAVAILABLE');
});

test('a target refusing the connection is swapped for another one, as for plain requests', async (t) => {
  const origin = await startWsOrigin();
  t.after(() => origin.close());
  const gw = await gateway(t, [`http://127.0.0.1:${await closedPort()}`, origin.url]);
  for (let i = 0; i < 2; i++) {
    const ws = await openWs(`${gw.url.replace('http:', 'ws:')}/chat/${i}`);
    ws.send('still here');
    assert.equal((await nextMessage(ws)).data.toString(), 'still here');
    ws.terminate();
  }
  assert.equal(origin.upgrades.length, 2);
});

test('an upstream answering the upgrade with 400 gives 502 BAD_GATEWAY', async (t) => {
  const origin = await startWsOrigin({ refuse: 400 });
  t.after(() => origin.close());
  const gw = await gateway(t, [origin.url]);
  const err = await refusal(gw);
  assert.equal(err.status, 502);
  assert.equal(codeOf(err), 'BAD_GATEWAY');
  assert.match(err.body, /refused the WebSocket upgrade \(status 400\)/);
});

test('an upstream that never answers the upgrade gives 504 UPSTREAM_TIMEOUT after the service timeout', async (t) => {
  const silent = await startRawOrigin(() => undefined);
  t.after(() => silent.close());
  const gw = await gateway(t, [silent.url], '    timeout: 200ms\n');
  const err = await refusal(gw);
  assert.equal(err.status, 504);
  assert.equal(codeOf(err), 'UPSTREAM_TIMEOUT');
});

test('the service timeout stops counting at the 101: an idle WebSocket stays open past it', async (t) => {
  const origin = await startWsOrigin();
  t.after(() => origin.close());
  const gw = await gateway(t, [origin.url], '    timeout: 100ms\n');
  const ws = await openWs(`${gw.url.replace('http:', 'ws:')}/chat/idle`);
  t.after(() => ws.terminate());
  // quiet for several timeouts, then still usable
  await new Promise((r) => setTimeout(r, 400));
  ws.send('after a pause');
  assert.equal((await nextMessage(ws)).data.toString(), 'after a pause');
});
