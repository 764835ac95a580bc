import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { laneClosedBy } from '../../src/fast-lane/fast-lane.js';
import { routeFile, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-client.js';
import { closedPort, startOrigin } from '../helpers/upstream.js';
import { waitUntil } from '../helpers/wait-until.js';

type T = { after: (fn: () => Promise<void>) => void };

/** Counts the requests the fast lane served (true) and those it left to Fastify (false). */
function spyOnLane(gw: RunningGateway): { taken: string[]; left: string[] } {
  const lane = gw.gateway.app.fastLane;
  assert.ok(lane, 'the gateway has a fast lane');
  const seen = { taken: [] as string[], left: [] as string[] };
  const serve = lane.serve.bind(lane);
  lane.serve = (req, res, closed) => {
    const took = serve(req, res, closed);
    (took ? seen.taken : seen.left).push(`${req.method} ${req.url}`);
    return took;
  };
  return seen;
}

const ROUTES = [
  '  - id: plain\n    match: { path: /plain/* }\n    upstream: { service: svc }\n',
  '  - id: with-plugin\n    match: { path: /guarded }\n    upstream: { service: svc }\n    plugins:\n      - api-key: { keys: [{ consumer: c1, sha256: 6ab9f1eb8f7d3388f4f9d586f66e99fd54080df2c446f0e58668b09c08a16dd0 }] }\n',
  '  - id: error-pages\n    match: { path: /pages }\n    upstream: { service: svc, replaceUpstreamErrors: true }\n',
  '  - id: ws\n    match: { path: /ws }\n    upstream: { service: svc, websocket: true }\n',
].join('');

async function setup(t: T, opts: { settings?: string; routes?: string; logger?: pino.Logger; targets?: string[] } = {}) {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const files: Record<string, string> = { 'routes.d/a.yaml': routeFile(opts.targets ?? [origin.url], opts.routes ?? ROUTES) };
  if (opts.settings) files['gatehouse.yaml'] = opts.settings;
  const gw = await startGateway(files, { logger: opts.logger });
  t.after(() => gw.close());
  return { gw, origin };
}

test('only plain proxy routes are on the lane: plugins, error pages and WebSocket routes stay with Fastify', async (t) => {
  const { gw } = await setup(t);
  const seen = spyOnLane(gw);
  assert.equal(gw.gateway.app.fastLane!.size, 1);
  assert.equal((await request(`${gw.url}/plain/a`)).statusCode, 200);
  assert.equal((await request(`${gw.url}/guarded`, { headers: { 'x-api-key': 'k1' } })).statusCode, 200);
  assert.equal((await request(`${gw.url}/guarded`)).statusCode, 401);
  assert.equal((await request(`${gw.url}/pages`)).statusCode, 200);
  assert.equal((await request(`${gw.url}/ws`)).statusCode, 200);
  assert.deepEqual(seen.taken, ['GET /plain/a']);
  assert.deepEqual(seen.left, ['GET /guarded', 'GET /guarded', 'GET /pages', 'GET /ws']);
});

test('requests with a body, an Expect, a percent-escape, a bad target or no route go to Fastify and get its answers', async (t) => {
  const { gw, origin } = await setup(t);
  const seen = spyOnLane(gw);
  const post = await request(`${gw.url}/plain/p`, { method: 'POST', body: 'hello' });
  assert.equal(((await post.body.json()) as { bytes: number }).bytes, 5);
  // Unreserved escapes are decoded by normalisation (then the lane may take the path); reserved ones stay.
  assert.equal((await request(`${gw.url}/plain/a%2Fb`)).statusCode, 200);
  assert.equal(origin.seen.at(-1)!.url, '/plain/a%2Fb');
  assert.equal((await request(`${gw.url}/plain/%61b`)).statusCode, 200);
  assert.equal(origin.seen.at(-1)!.url, '/plain/ab');
  const missing = await request(`${gw.url}/nowhere`);
  assert.equal(missing.statusCode, 404);
  assert.equal(((await missing.body.json()) as { code: string }).code, 'ROUTE_NOT_FOUND');
  const bad = await request(`${gw.url}/plain/%00`);
  assert.equal(bad.statusCode, 400);
  await bad.body.dump();
  assert.deepEqual(seen.taken, ['GET /plain/%61b']);
  assert.deepEqual(seen.left, ['POST /plain/p', 'GET /plain/a%2Fb', 'GET /nowhere', 'GET /plain/%00']);
});

test('tracing, server.timing and a trusted proxy close the lane; the routes answer through Fastify', async (t) => {
  assert.equal(laneClosedBy({ server: { trustProxy: false, timing: false } }, false), undefined);
  assert.equal(laneClosedBy({ server: { trustProxy: false, timing: false } }, true), 'tracing');
  assert.equal(laneClosedBy({ server: { trustProxy: false, timing: true } }, false), 'server.timing');
  assert.equal(laneClosedBy({ server: { trustProxy: true, timing: false } }, false), 'server.trustProxy');
  const { gw } = await setup(t, { settings: 'admin: { enabled: false }\nserver: { timing: true }\n' });
  assert.equal(gw.gateway.app.fastLane, undefined);
  const res = await request(`${gw.url}/plain/a`);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['server-timing']), /gateway;dur=/);
  await res.body.dump();
});

test('on the lane: x-request-id both ways, X-Forwarded-*, Connection-named and hop-by-hop headers dropped, Server hidden, query kept', async (t) => {
  const origin = await startOrigin((req, res) => {
    res.setHeader('server', 'secret-origin/1.0');
    res.setHeader('keep-alive', 'timeout=5');
    res.setHeader('x-upstream', 'yes');
    res.setHeader('x-request-id', 'upstream-made-this');
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.end(JSON.stringify({ url: req.url }));
  });
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], ROUTES) });
  t.after(() => gw.close());
  const seen = spyOnLane(gw);
  const { port } = new URL(gw.url);
  const res = await rawRequest(
    Number(port),
    'GET /plain/x?b=2&a=1 HTTP/1.1\r\nHost: gw.test\r\nx-request-id: client-id-1\r\nConnection: close, x-drop-me\r\nx-drop-me: no\r\nx-keep: yes\r\n\r\n',
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-request-id'], 'client-id-1');
  assert.equal(res.headers['x-upstream'], 'yes');
  assert.match(res.raw, /set-cookie: a=1\r\nset-cookie: b=2\r\n/i);
  assert.equal(res.headers.server, undefined);
  assert.notEqual(res.headers['keep-alive'], 'timeout=5');
  assert.deepEqual(JSON.parse(res.body), { url: '/plain/x?b=2&a=1' });
  const up = origin.seen[0]!.headers;
  assert.equal(up['x-request-id'], 'client-id-1');
  assert.equal(up['x-forwarded-for'], '127.0.0.1');
  assert.equal(up['x-forwarded-proto'], 'http');
  assert.equal(up['x-forwarded-host'], 'gw.test');
  assert.equal(up['x-keep'], 'yes');
  assert.equal(up['x-drop-me'], undefined);
  const head = await request(`${gw.url}/plain/x`, { method: 'HEAD' });
  assert.equal(head.statusCode, 200);
  assert.match(String(head.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  await head.body.dump();
  assert.deepEqual(seen.taken, ['GET /plain/x?b=2&a=1', 'HEAD /plain/x']);
});

test('on the lane: an unreachable upstream is 503 problem+json; metrics and the access log count the requests, bytes of chunked answers included', async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const chunked = await startOrigin((_req, res) => {
    res.write('12345');
    setTimeout(() => res.end('67890'), 5);
  });
  t.after(() => chunked.close());
  const dead = await closedPort();
  const routes = `services:\n  up:\n    discovery: { static: [${JSON.stringify(chunked.url)}] }\n  down:\n    discovery: { static: ["http://127.0.0.1:${dead}"] }\nroutes:\n  - id: lane-up\n    match: { path: /up }\n    upstream: { service: up }\n  - id: lane-down\n    match: { path: /down }\n    upstream: { service: down }\n`;
  const gw = await startGateway({ 'gatehouse.yaml': 'admin: { enabled: true, port: 0 }\n', 'routes.d/a.yaml': routes }, { logger });
  t.after(() => gw.close());
  const seen = spyOnLane(gw);
  const ok = await request(`${gw.url}/up`);
  assert.equal(ok.statusCode, 200);
  assert.equal(await ok.body.text(), '1234567890');
  const down = await request(`${gw.url}/down`);
  assert.equal(down.statusCode, 503);
  assert.match(String(down.headers['content-type']), /^application\/problem\+json/);
  const problem = (await down.body.json()) as { code: string; requestId: string };
  assert.equal(problem.code, 'UPSTREAM_UNAVAILABLE');
  assert.equal(problem.requestId, down.headers['x-request-id']);
  assert.deepEqual(seen.taken, ['GET /up', 'GET /down']);

  await waitUntil(() => lines.filter((l) => l.includes('"msg":"request"')).length === 2, 'two access-log lines');
  const log = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  const up = log.find((l) => l.route === 'lane-up')!;
  assert.equal(up.status, 200);
  assert.equal(up.bytes, 10);
  assert.equal(up.target, chunked.url);
  assert.equal(up.method, 'GET');
  assert.equal(up.client, '127.0.0.1');
  assert.equal(typeof up.reqId, 'string');
  const downLine = log.find((l) => l.route === 'lane-down')!;
  assert.equal(downLine.status, 503);
  assert.equal(downLine.target, `http://127.0.0.1:${dead}`);
  assert.ok(Number(downLine.bytes) > 0);

  const metrics = await (await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/metrics`)).body.text();
  assert.match(metrics, /gatehouse_requests_total\{route="lane-up",method="GET",status="200"\} 1/);
  assert.match(metrics, /gatehouse_requests_total\{route="lane-down",method="GET",status="503"\} 1/);
  assert.match(metrics, /gatehouse_request_duration_seconds_count\{route="lane-up"\} 1/);
});

test('on the lane: a connect error is retried on another target', async (t) => {
  const dead = await closedPort();
  const o = await startOrigin();
  t.after(() => o.close());
  const g = await startGateway({ 'routes.d/a.yaml': routeFile([`http://127.0.0.1:${dead}`, o.url], '  - id: plain\n    match: { path: /* }\n    upstream: { service: svc }\n', '    loadBalancer: round-robin\n') });
  t.after(() => g.close());
  const seen = spyOnLane(g);
  for (let i = 0; i < 4; i++) assert.equal((await request(`${g.url}/r${i}`)).statusCode, 200);
  assert.equal(o.seen.length, 4);
  assert.equal(seen.taken.length, 4);
});

test('on the lane: a client that leaves mid-body stops the upstream response; a client that does not read holds the upstream back', async (t) => {
  let closedEarly = false;
  let stalled = false;
  const origin = await startOrigin((req, res) => {
    res.on('close', () => {
      if (!res.writableFinished) closedEarly = true;
    });
    const chunk = Buffer.alloc(64 * 1024, 'z');
    let sent = 0;
    const pump = (): void => {
      while (sent < 256 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          stalled = true;
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], '  - id: plain\n    match: { path: /* }\n    upstream: { service: svc }\n') });
  t.after(() => gw.close());
  const seen = spyOnLane(gw);
  const { port } = new URL(gw.url);
  const req = http.get({ host: '127.0.0.1', port, path: '/big' });
  const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
  assert.equal(res.statusCode, 200);
  res.pause(); // read nothing: the gateway must stop reading the upstream rather than buffer 256 MiB
  await waitUntil(() => stalled, 'the upstream sees back-pressure');
  req.destroy();
  await waitUntil(() => closedEarly, 'the upstream response is abandoned');
  assert.deepEqual(seen.taken, ['GET /big']);
});
