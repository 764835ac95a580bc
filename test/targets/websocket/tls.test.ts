import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startGateway } from '../../helpers/gateway.js';
import { selfSignedCert } from '../../helpers/tls.js';
import { nextMessage, openWs, startWsOrigin } from '../../helpers/ws-origin.js';

test('wss:// on both sides: the gateway terminates TLS and does the handshake with an https target over TLS', async (t) => {
  const cert = selfSignedCert();
  const origin = await startWsOrigin({ tls: cert });
  t.after(() => origin.close());
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { tls: { cert: ./tls/cert.pem, key: ./tls/key.pem } }\n',
    'tls/cert.pem': cert.cert,
    'tls/key.pem': cert.key,
    'routes.d/a.yaml':
      `services:\n  svc:\n    protocol: https\n    tls: { ca: ../tls/cert.pem }\n    discovery: { static: [${JSON.stringify(origin.url)}] }\n` +
      `routes:\n  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true }\n`,
  });
  t.after(() => gw.close());
  const ws = await openWs(`wss://127.0.0.1:${gw.gateway.address().port}/chat/secure`, {}, [], cert.cert);
  t.after(() => ws.terminate());
  ws.send('over tls');
  assert.equal((await nextMessage(ws)).data.toString(), 'over tls');
  assert.equal(origin.upgrades[0]!.headers['x-forwarded-proto'], 'https');
});

test('with server.http2 on TLS, WebSocket clients upgrade over the HTTP/1.1 fallback of the same port', async (t) => {
  const cert = selfSignedCert();
  const origin = await startWsOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { http2: true, tls: { cert: ./tls/cert.pem, key: ./tls/key.pem } }\n',
    'tls/cert.pem': cert.cert,
    'tls/key.pem': cert.key,
    'routes.d/a.yaml':
      `services:\n  svc:\n    discovery: { static: [${JSON.stringify(origin.url)}] }\n` +
      `routes:\n  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true }\n`,
  });
  t.after(() => gw.close());
  const ws = await openWs(`wss://127.0.0.1:${gw.gateway.address().port}/chat/h2-port`, {}, [], cert.cert);
  t.after(() => ws.terminate());
  ws.send('beside h2');
  assert.equal((await nextMessage(ws)).data.toString(), 'beside h2');
  assert.equal(origin.upgrades.length, 1);
});
