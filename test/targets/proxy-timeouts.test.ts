import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';
import { waitUntil } from '../helpers/wait-until.js';

/** An origin that never answers and records when the gateway gives up on a request. */
async function hangingOrigin() {
  const aborted: string[] = [];
  const pending = new Map<string, http.ServerResponse>();
  const origin = await startOrigin((req, res) => {
    pending.set(req.url!, res);
    res.on('close', () => {
      if (!res.writableEnded) aborted.push(req.url!);
    });
  });
  return { origin, aborted, pending };
}

test('a slow upstream gives 504 UPSTREAM_TIMEOUT and its request is aborted', async (t) => {
  const { origin, aborted } = await hangingOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc, stripPrefix: /api }\n`, '    timeout: 200ms\n'),
  });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/slow`);
  assert.equal(res.statusCode, 504);
  const body = (await res.body.json()) as { code: string };
  assert.equal(body.code, 'UPSTREAM_TIMEOUT');
  await waitUntil(() => aborted.includes('/slow'), 'the upstream saw its request aborted');
});

test('upstream.timeout on a route overrides the service timeout', async (t) => {
  const { origin, pending } = await hangingOrigin();
  t.after(() => origin.close());
  const routes =
    `  - id: quick\n    match: { path: /quick/* }\n    upstream: { service: svc, stripPrefix: /quick, timeout: 150ms }\n` +
    `  - id: patient\n    match: { path: /patient/* }\n    upstream: { service: svc, stripPrefix: /patient }\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], routes, '    timeout: 30s\n') });
  t.after(() => gw.close());

  let patientDone = false;
  const patient = request(`${gw.url}/patient/p`).then(async (r) => {
    patientDone = true;
    return { status: r.statusCode, text: await r.body.text() };
  });
  await waitUntil(() => pending.has('/p'), 'the patient request reached the upstream');
  const quick = await request(`${gw.url}/quick/q`);
  assert.equal(quick.statusCode, 504);
  await quick.body.dump();
  assert.equal(patientDone, false, 'the route without an override still waits (service timeout 30s)');
  pending.get('/p')!.end('finally');
  const p = await patient;
  assert.equal(p.status, 200);
  assert.equal(p.text, 'finally');
});

test('a client that hangs up cancels the upstream call', async (t) => {
  const { origin, aborted } = await hangingOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc, stripPrefix: /api }\n`, '    timeout: 60s\n'),
  });
  t.after(() => gw.close());
  const port = Number(new URL(gw.url).port);
  const req = http.get({ host: '127.0.0.1', port, path: '/api/leaving' });
  req.on('error', () => undefined);
  await waitUntil(() => origin.seen.some((s) => s.url === '/leaving'), 'the request reached the upstream');
  req.destroy();
  await waitUntil(() => aborted.includes('/leaving'), 'the upstream saw the call cancelled');
  const target = gw.gateway.serviceSet.get('svc')!.list()[0]!;
  await waitUntil(() => target.inflight === 0, 'the target has nothing in flight');
});

test('a client that hangs up during a retry backoff stops the retries', async (t) => {
  const origin = await startOrigin((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [origin.url],
      `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc, stripPrefix: /api }\n`,
      '    retry: { attempts: 3, backoff: 300ms, maxBackoff: 300ms }\n',
    ),
  });
  t.after(() => gw.close());
  const port = Number(new URL(gw.url).port);
  const req = http.get({ host: '127.0.0.1', port, path: '/api/x' });
  req.on('error', () => undefined);
  await waitUntil(() => origin.seen.length === 1, 'the first try reached the upstream');
  req.destroy();
  // The next try was due within 300ms; give it twice that to (not) happen.
  await sleep(600);
  assert.equal(origin.seen.length, 1, 'no retry after the client left');
});
