import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { closedPort, startOrigin, type OriginHandler } from '../helpers/upstream.js';
import { waitUntil } from '../helpers/wait-until.js';

const ROUTE = `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc, stripPrefix: /api }\n`;

const status = (code: number): OriginHandler => (_req, res) => {
  res.statusCode = code;
  res.end(`status ${code}`);
};

async function get(gw: RunningGateway, path = '/api/x') {
  const res = await request(`${gw.url}${path}`);
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

function targetsOf(gw: RunningGateway) {
  return gw.gateway.serviceSet.get('svc')!.list();
}

test('the breaker opens after the threshold and the failing upstream stops receiving requests', async (t) => {
  const origin = await startOrigin(status(500));
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    circuitBreaker: { volumeThreshold: 4, resetTimeout: 1m }\n'),
  });
  t.after(() => gw.close());
  const statuses: number[] = [];
  let last;
  for (let i = 0; i < 10; i++) {
    last = await get(gw);
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [500, 500, 500, 500, 503, 503, 503, 503, 503, 503]);
  assert.equal(origin.seen.length, 4, 'nothing reaches the upstream once the circuit is open');
  assert.equal(targetsOf(gw)[0]!.breakerState, 'open');
  const body = JSON.parse(last!.text) as { code: string; requestId: string };
  assert.equal(body.code, 'CIRCUIT_OPEN');
  assert.equal(body.requestId, last!.headers['x-request-id']);
  const retryAfter = Number(last!.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${String(last!.headers['retry-after'])}`);
});

test('after resetTimeout one half-open probe goes through, and its success closes the breaker', async (t) => {
  let mode: 'fail' | 'hold' | 'ok' = 'fail';
  let release: (() => void) | undefined;
  const origin = await startOrigin((_req, res) => {
    if (mode === 'fail') return status(500)(_req, res, Buffer.alloc(0));
    if (mode === 'hold') {
      release = () => res.end('probe ok');
      return;
    }
    res.end('ok');
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    circuitBreaker: { volumeThreshold: 2, resetTimeout: 1s }\n'),
  });
  t.after(() => gw.close());
  const target = targetsOf(gw)[0]!;
  assert.equal((await get(gw)).status, 500);
  assert.equal((await get(gw)).status, 500);
  assert.equal(target.breakerState, 'open');
  assert.equal((await get(gw)).status, 503);
  assert.equal(origin.seen.length, 2);

  mode = 'hold';
  await waitUntil(() => target.breakerState === 'half-open', 'the breaker is half-open');
  const probe = get(gw);
  await waitUntil(() => origin.seen.length === 3, 'the probe reached the upstream');
  const during = await get(gw);
  assert.equal(during.status, 503, 'only one probe at a time');
  assert.equal(JSON.parse(during.text).code, 'CIRCUIT_OPEN');
  assert.equal(origin.seen.length, 3);

  mode = 'ok';
  release!();
  assert.equal((await probe).status, 200);
  assert.equal(target.breakerState, 'closed');
  assert.equal((await get(gw)).status, 200);
  assert.equal(origin.seen.length, 4);
});

test('a failed half-open probe opens the breaker again', async (t) => {
  const origin = await startOrigin(status(502));
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    circuitBreaker: { volumeThreshold: 1, resetTimeout: 1s }\n'),
  });
  t.after(() => gw.close());
  const target = targetsOf(gw)[0]!;
  assert.equal((await get(gw)).status, 502);
  assert.equal(target.breakerState, 'open');
  await waitUntil(() => target.breakerState === 'half-open', 'the breaker is half-open');
  assert.equal((await get(gw)).status, 502, 'the probe reaches the upstream');
  assert.equal(target.breakerState, 'open');
  assert.equal((await get(gw)).status, 503);
  assert.equal(origin.seen.length, 2);
});

test('one failing target among three is cut out while the service keeps answering 200', async (t) => {
  const good1 = await startOrigin();
  const bad = await startOrigin(status(500));
  const good2 = await startOrigin();
  t.after(() => Promise.all([good1.close(), bad.close(), good2.close()]));
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [good1.url, bad.url, good2.url],
      ROUTE,
      '    circuitBreaker: { volumeThreshold: 3, resetTimeout: 1m }\n    retry: { attempts: 1, backoff: 0, on: [500] }\n',
    ),
  });
  t.after(() => gw.close());
  const statuses = new Set<number>();
  for (let i = 0; i < 30; i++) statuses.add((await get(gw)).status);
  assert.deepEqual([...statuses], [200]);
  assert.equal(bad.seen.length, 3, 'the bad target got exactly the volume threshold, then was cut out');
  assert.equal(good1.seen.length + good2.seen.length, 30);
  assert.deepEqual(
    targetsOf(gw).map((x) => x.breakerState),
    ['closed', 'open', 'closed'],
  );
});

test('when every target is open the service answers 503 CIRCUIT_OPEN with Retry-After and touches no upstream', async (t) => {
  const a = await startOrigin(status(500));
  const b = await startOrigin(status(503));
  t.after(() => Promise.all([a.close(), b.close()]));
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([a.url, b.url], ROUTE, '    circuitBreaker: { volumeThreshold: 2, resetTimeout: 30s }\n'),
  });
  t.after(() => gw.close());
  for (let i = 0; i < 4; i++) await get(gw);
  assert.deepEqual(targetsOf(gw).map((x) => x.breakerState), ['open', 'open']);
  const hits = a.seen.length + b.seen.length;
  assert.equal(hits, 4);
  for (let i = 0; i < 5; i++) {
    const r = await get(gw);
    assert.equal(r.status, 503);
    assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
    assert.equal(JSON.parse(r.text).code, 'CIRCUIT_OPEN');
    const retryAfter = Number(r.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 30);
  }
  assert.equal(a.seen.length + b.seen.length, hits, 'zero upstream calls while every circuit is open');
});

test('4xx answers never count as failures', async (t) => {
  const origin = await startOrigin(status(404));
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 0 }\n'),
  });
  t.after(() => gw.close());
  for (let i = 0; i < 8; i++) assert.equal((await get(gw)).status, 404);
  assert.equal(origin.seen.length, 8);
  assert.equal(targetsOf(gw)[0]!.breakerState, 'closed');
});

test('failOn chooses what counts: without 5xx, 500s leave the breaker closed', async (t) => {
  const origin = await startOrigin(status(500));
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    circuitBreaker: { volumeThreshold: 2, failOn: [connect-error, timeout] }\n'),
  });
  t.after(() => gw.close());
  for (let i = 0; i < 6; i++) assert.equal((await get(gw)).status, 500);
  assert.equal(targetsOf(gw)[0]!.breakerState, 'closed');
});

test('failOn with a status code counts only that code', async (t) => {
  let code = 500;
  const origin = await startOrigin((_req, res) => {
    res.statusCode = code;
    res.end();
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    circuitBreaker: { volumeThreshold: 1, errorThresholdPercentage: 0, failOn: [503] }\n'),
  });
  t.after(() => gw.close());
  assert.equal((await get(gw)).status, 500);
  assert.equal(targetsOf(gw)[0]!.breakerState, 'closed');
  code = 503;
  assert.equal((await get(gw)).status, 503);
  assert.equal(targetsOf(gw)[0]!.breakerState, 'open');
});

test('a refused target opens its breaker and later requests go straight to its sibling', async (t) => {
  const good = await startOrigin();
  t.after(() => good.close());
  const refused = `http://127.0.0.1:${await closedPort()}`;
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([refused, good.url], ROUTE, '    circuitBreaker: { volumeThreshold: 2, resetTimeout: 1m }\n'),
  });
  t.after(() => gw.close());
  for (let i = 0; i < 10; i++) assert.equal((await get(gw)).status, 200);
  assert.deepEqual(targetsOf(gw).map((x) => x.breakerState), ['open', 'closed']);
  const stats = targetsOf(gw)[0]!.breaker!.stats();
  assert.equal(stats.failures, 2, 'the refused target was tried only until its breaker opened');
});

test('circuitBreaker.timeout fails slow calls with 504 and counts them', async (t) => {
  const origin = await startOrigin(() => undefined); // never answers
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    timeout: 30s\n    circuitBreaker: { timeout: 150ms, volumeThreshold: 1, resetTimeout: 1m }\n'),
  });
  t.after(() => gw.close());
  const first = await get(gw);
  assert.equal(first.status, 504);
  assert.equal(JSON.parse(first.text).code, 'UPSTREAM_TIMEOUT');
  assert.equal(targetsOf(gw)[0]!.breakerState, 'open');
  assert.equal((await get(gw)).status, 503);
  assert.equal(origin.seen.length, 1);
});
