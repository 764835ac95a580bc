import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { Retry } from '../../src/config/schema.js';
import { backoffDelay, mayRetry, retryPolicy } from '../../src/upstream/retry.js';

const configured = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { attempts: 3 })));
const builtIn = retryPolicy(undefined);

test('without a retry block only a connection that never opened, or a reset idempotent request, is retried once', () => {
  assert.equal(mayRetry(builtIn, 'POST', 'connect-error', 1, true), true);
  assert.equal(mayRetry(builtIn, 'GET', 'reset', 1, true), true);
  assert.equal(mayRetry(builtIn, 'POST', 'reset', 1, true), false);
  assert.equal(mayRetry(builtIn, 'GET', 503, 1, true), false);
  assert.equal(mayRetry(builtIn, 'GET', 'timeout', 1, true), false);
  assert.equal(mayRetry(builtIn, 'GET', 'connect-error', 2, true), false);
  assert.equal(mayRetry(builtIn, 'GET', 'reset', 1, true, false), false, 'garbage is not a stale connection');
});

test('a configured policy retries its conditions for its methods, up to attempts', () => {
  assert.equal(mayRetry(configured, 'GET', 503, 1, true), true);
  assert.equal(mayRetry(configured, 'GET', 503, 3, true), true);
  assert.equal(mayRetry(configured, 'GET', 503, 4, true), false);
  assert.equal(mayRetry(configured, 'GET', 500, 1, true), false, '500 is not in the default on-list');
  assert.equal(mayRetry(configured, 'POST', 503, 1, true), false, 'POST is not idempotent');
  assert.equal(mayRetry(configured, 'POST', 'reset', 1, true), false, 'a POST that was sent is never retried');
  assert.equal(mayRetry(configured, 'POST', 'connect-error', 2, true), true, 'nothing was sent: safe for any method');
  assert.equal(mayRetry(configured, 'GET', 'timeout', 1, true), false, 'timeouts are not retried unless listed');
});

test('nothing is retried when the body cannot be sent again, the client left, or there was no target', () => {
  assert.equal(mayRetry(configured, 'PUT', 503, 1, false), false);
  assert.equal(mayRetry(configured, 'GET', 'client-gone', 1, true), false);
  assert.equal(mayRetry(configured, 'GET', 'no-target', 1, true), false);
  assert.equal(mayRetry(configured, 'GET', 'circuit-open', 1, true), false);
});

test('methods lists the methods retried beyond the idempotent ones', () => {
  const p = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { methods: ['GET', 'POST'] })));
  assert.equal(mayRetry(p, 'POST', 503, 1, true), true);
  assert.equal(mayRetry(p, 'PUT', 503, 1, true), false);
});

test('attempts: 0 turns off even the built-in retry', () => {
  const p = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { attempts: 0 })));
  assert.equal(mayRetry(p, 'GET', 'connect-error', 1, true), false);
  assert.equal(mayRetry(p, 'GET', 'reset', 1, true), false);
});

test('backoff grows exponentially, is jittered between half and all of its cap, and stops at maxBackoff', () => {
  const p = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { backoff: '100ms', maxBackoff: '300ms' })));
  assert.equal(backoffDelay(p, 1, () => 0), 50);
  assert.equal(backoffDelay(p, 1, () => 1), 100);
  assert.equal(backoffDelay(p, 2, () => 0), 100);
  assert.equal(backoffDelay(p, 2, () => 1), 200);
  assert.equal(backoffDelay(p, 3, () => 1), 300);
  assert.equal(backoffDelay(p, 8, () => 0), 150);
  assert.equal(backoffDelay(builtIn, 1, () => 1), 0, 'the built-in retry does not wait');
});

test('maxBackoff defaults to ten times backoff', () => {
  const p = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { backoff: '10ms' })));
  assert.equal(p.maxBackoff, 100);
});

// ---- against real upstreams ----

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { closedPort, startOrigin, startRawOrigin, type OriginHandler } from '../helpers/upstream.js';

const ROUTE = `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc, stripPrefix: /api }\n`;
const answer = (code: number): OriginHandler => (_req, res) => {
  res.statusCode = code;
  res.end(`status ${code}`);
};

test('a retried request moves to another target', async (t) => {
  const failing = await startOrigin(answer(503));
  const good = await startOrigin();
  t.after(() => Promise.all([failing.close(), good.close()]));
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([failing.url, good.url], ROUTE, '    retry: { attempts: 2, backoff: 1ms }\n') });
  t.after(() => gw.close());
  for (let i = 0; i < 6; i++) {
    const res = await request(`${gw.url}/api/x`);
    await res.body.dump();
    assert.equal(res.statusCode, 200);
  }
  assert.ok(failing.seen.length >= 1);
  const goodIds = new Set(good.seen.map((s) => s.headers['x-request-id']));
  for (const s of failing.seen) assert.ok(goodIds.has(s.headers['x-request-id']), 'each failed try was retried on the good target');
  assert.equal(good.seen.length, 6);
});

test('a refused connection is retried on another target for any method, without a retry block', async (t) => {
  const good = await startOrigin();
  t.after(() => good.close());
  const refused = `http://127.0.0.1:${await closedPort()}`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([refused, good.url], ROUTE) });
  t.after(() => gw.close());
  for (const method of ['GET', 'POST', 'GET', 'POST'] as const) {
    const res = await request(`${gw.url}/api/x`, { method });
    await res.body.dump();
    assert.equal(res.statusCode, 200, method);
  }
  assert.equal(good.seen.length, 4);
});

test('every target refused: 503 UPSTREAM_UNAVAILABLE after the retry', async (t) => {
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([`http://127.0.0.1:${await closedPort()}`, `http://127.0.0.1:${await closedPort()}`], ROUTE),
  });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/x`);
  assert.equal(res.statusCode, 503);
  assert.equal(((await res.body.json()) as { code: string }).code, 'UPSTREAM_UNAVAILABLE');
});

test('POST is not retried on a retryable status', async (t) => {
  const failing = await startOrigin(answer(503));
  const good = await startOrigin();
  t.after(() => Promise.all([failing.close(), good.close()]));
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([failing.url, good.url], ROUTE, '    retry: { attempts: 2, backoff: 1ms }\n') });
  t.after(() => gw.close());
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await request(`${gw.url}/api/x`, { method: 'POST', body: 'order=1' });
    await res.body.dump();
    statuses.push(res.statusCode);
  }
  assert.equal(failing.seen.length + good.seen.length, 6, 'one upstream call per POST');
  assert.ok(statuses.includes(503));
});

test('a POST the upstream reset after it was sent is never retried; a GET is retried once', async (t) => {
  const origin = await startRawOrigin((socket) => socket.destroy());
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], ROUTE) });
  t.after(() => gw.close());
  const post = await request(`${gw.url}/api/x`, { method: 'POST' });
  await post.body.dump();
  assert.equal(post.statusCode, 502);
  assert.equal(origin.received.length, 1, 'the POST was sent once');
  const postWithBody = await request(`${gw.url}/api/x`, { method: 'POST', body: 'x=1' });
  await postWithBody.body.dump();
  assert.equal(postWithBody.statusCode, 502);
  assert.equal(origin.received.length, 2);
  const get = await request(`${gw.url}/api/x`);
  await get.body.dump();
  assert.equal(get.statusCode, 502);
  assert.equal(origin.received.length, 4, 'the GET was tried twice');
});

test('a keep-alive connection the upstream dropped is retried once on a fresh one (GET), never for POST', async (t) => {
  const perSocket = new WeakMap<Socket, number>();
  let connections = 0;
  let answered = 0;
  const server = http.createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    req.resume();
    req.on('end', () => {
      // The second request on a connection finds it closed, as a stale pooled socket would.
      if (n >= 2) return req.socket.destroy();
      answered++;
      res.end('fresh');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([url], ROUTE) });
  t.after(() => gw.close());

  const first = await request(`${gw.url}/api/x`);
  assert.equal(await first.body.text(), 'fresh');
  const second = await request(`${gw.url}/api/x`);
  assert.equal(second.statusCode, 200);
  assert.equal(await second.body.text(), 'fresh');
  assert.equal(connections, 2, 'the retry went out on a new connection');
  assert.equal(answered, 2);

  const post = await request(`${gw.url}/api/x`, { method: 'POST' });
  await post.body.dump();
  assert.equal(post.statusCode, 502, 'the POST was sent and the connection dropped: not retried');
  assert.equal(connections, 2);
});

test('a small PUT body is buffered and resent on retry; one over maxBodySize streams and is sent once', async (t) => {
  const origin = await startOrigin(answer(503));
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    retry: { attempts: 2, backoff: 1ms, maxBodySize: 1kb }\n') });
  t.after(() => gw.close());
  const small = 'a'.repeat(600);
  const res = await request(`${gw.url}/api/x`, { method: 'PUT', body: small });
  await res.body.dump();
  assert.equal(res.statusCode, 503);
  assert.equal(origin.seen.length, 3, 'the first try and two retries');
  for (const s of origin.seen) assert.equal(s.body.toString(), small, 'every try carried the whole body');

  const big = 'b'.repeat(4096);
  const res2 = await request(`${gw.url}/api/x`, { method: 'PUT', body: big });
  await res2.body.dump();
  assert.equal(res2.statusCode, 503);
  assert.equal(origin.seen.length, 4, 'a streamed body is not retried');
  assert.equal(origin.seen[3]!.body.toString(), big);
});

test('retry.methods opts POST into retries', async (t) => {
  const origin = await startOrigin(answer(502));
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    retry: { attempts: 1, backoff: 1ms, methods: [GET, POST] }\n'),
  });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/x`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
  await res.body.dump();
  assert.equal(origin.seen.length, 2);
  assert.deepEqual(origin.seen.map((s) => s.body.toString()), ['{"a":1}', '{"a":1}']);
});

test('garbage from the upstream is not retried without a retry block; a reset mid-body never is', async (t) => {
  const garbage = await startRawOrigin((socket) => socket.end('HTTP/1.1 999 Nope\r\ncontent-length: 0\r\n\r\n'));
  const midBody = await startRawOrigin((socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789');
    setImmediate(() => socket.destroy());
  });
  t.after(() => Promise.all([garbage.close(), midBody.close()]));
  const routes =
    `  - id: garbage\n    match: { path: /garbage/* }\n    upstream: { service: garbage, stripPrefix: /garbage }\n` +
    `  - id: mid\n    match: { path: /mid/* }\n    upstream: { service: mid, stripPrefix: /mid }\n`;
  const services =
    `services:\n  garbage:\n    discovery: { static: [${JSON.stringify(garbage.url)}] }\n` +
    `  mid:\n    discovery: { static: [${JSON.stringify(midBody.url)}] }\n    retry: { attempts: 2, backoff: 1ms, on: [reset] }\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': `${services}routes:\n${routes}` });
  t.after(() => gw.close());
  const g = await request(`${gw.url}/garbage/x`);
  assert.equal(g.statusCode, 502);
  await g.body.dump();
  assert.equal(garbage.received.length, 1);

  const m = await request(`${gw.url}/mid/x`);
  assert.equal(m.statusCode, 200, 'the head was already sent');
  await assert.rejects(m.body.text(), 'the client sees an aborted body, never a complete response');
  assert.equal(midBody.received.length, 1, 'a failure while the body streams is not retried');
});

test('the routes of one service share its retry policy: one per config object', () => {
  const config = Value.Decode(Retry, Value.Default(Retry, { attempts: 2 }));
  assert.equal(retryPolicy(config), retryPolicy(config));
  assert.notEqual(retryPolicy(config), retryPolicy(Value.Decode(Retry, Value.Default(Retry, { attempts: 2 }))));
  assert.equal(retryPolicy(undefined), retryPolicy(undefined));
});
