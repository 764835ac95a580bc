import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { closedPort, startOrigin } from '../helpers/upstream.js';
import { metricValue } from '../helpers/metrics.js';

test('/metrics has requests by route/method/status, durations, upstream outcomes and target health', async (t) => {
  const origin = await startOrigin((req, res) => {
    res.statusCode = req.url === '/boom' ? 500 : 200;
    res.end('x');
  });
  t.after(() => origin.close());
  const dead = await closedPort();
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { port: 0 }\n',
    'routes.d/a.yaml': `${routeFile([origin.url], `  - id: metrics-route\n    match: { path: /m/* }\n    upstream: { service: svc, stripPrefix: /m }\n  - id: metrics-dead\n    match: { path: /dead }\n    upstream: { service: gone }\n`)}`.replace(
      'routes:',
      `  gone:\n    discovery:\n      static: ["http://127.0.0.1:${dead}"]\nroutes:`,
    ),
  });
  t.after(() => gw.close());
  for (let i = 0; i < 3; i++) await (await request(`${gw.url}/m/ok`)).body.dump();
  await (await request(`${gw.url}/m/boom`)).body.dump();
  await (await request(`${gw.url}/m/ok`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).body.dump();
  await (await request(`${gw.url}/dead`)).body.dump();
  await (await request(`${gw.url}/no-such-route/12345`)).body.dump();
  const res = await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/metrics`);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  const text = await res.body.text();
  assert.equal(metricValue(text, 'gatehouse_requests_total{route="metrics-route",method="GET",status="200"}'), 3);
  assert.equal(metricValue(text, 'gatehouse_requests_total{route="metrics-route",method="GET",status="500"}'), 1);
  assert.equal(metricValue(text, 'gatehouse_requests_total{route="metrics-route",method="POST",status="200"}'), 1);
  assert.equal(metricValue(text, 'gatehouse_requests_total{route="metrics-dead",method="GET",status="503"}'), 1);
  assert.ok((metricValue(text, 'gatehouse_requests_total{route="unmatched",method="GET",status="404"}') ?? 0) >= 1);
  assert.doesNotMatch(text, /no-such-route/, 'raw paths never become labels');
  assert.equal(metricValue(text, 'gatehouse_request_duration_seconds_count{route="metrics-route"}'), 5);
  assert.equal(metricValue(text, `gatehouse_upstream_requests_total{service="svc",target="${origin.url}",outcome="ok"}`), 4);
  assert.equal(metricValue(text, `gatehouse_upstream_requests_total{service="svc",target="${origin.url}",outcome="http_5xx"}`), 1);
  assert.ok((metricValue(text, `gatehouse_upstream_requests_total{service="gone",target="http://127.0.0.1:${dead}",outcome="connect_error"}`) ?? 0) >= 1);
  assert.equal(metricValue(text, `gatehouse_target_healthy{service="svc",target="${origin.url}"}`), 1);
  assert.equal(metricValue(text, `gatehouse_circuit_state{service="svc",target="${origin.url}"}`), 0);
  assert.equal(metricValue(text, 'gatehouse_service_panic{service="svc"}'), 0);
  assert.match(text, /^gatehouse_config_generation \d+$/m);
  assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  assert.match(text, /^process_resident_memory_bytes /m);
});

test('/metrics needs the admin token when one is set; reload counters move', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'gatehouse.yaml': 'admin: { port: 0, token: tok }\n', 'routes.d/a.yaml': routeFile([origin.url], `  - id: r\n    match: { path: /r }\n    upstream: { service: svc }\n`) });
  t.after(() => gw.close());
  const admin = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
  const no = await request(`${admin}/metrics`);
  assert.equal(no.statusCode, 401);
  await no.body.dump();
  await gw.dir.write('routes.d/b.yaml', 'routes: [ { id: broken } ]\n');
  await gw.gateway.reload();
  const text = await (await request(`${admin}/metrics`, { headers: { authorization: 'Bearer tok' } })).body.text();
  assert.ok((metricValue(text, 'gatehouse_reloads_total{result="error"}') ?? 0) >= 1);
  assert.equal(metricValue(text, 'gatehouse_last_reload_success'), 0);
});

test('tracing: the client trace id reaches the upstream with a new parent id, and spans go to the OTLP receiver', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const exports: unknown[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      exports.push({ url: req.url, type: req.headers['content-type'], body: JSON.parse(body) as unknown });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => receiver.close(() => r())));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  const gw = await startGateway({
    'gatehouse.yaml': `admin: { enabled: false }\ntracing: { enabled: true, serviceName: gw-test, otlp: { endpoint: "${endpoint}", flushInterval: 100ms } }\n`,
    'routes.d/a.yaml': routeFile([origin.url], `  - id: traced\n    match: { path: /t }\n    upstream: { service: svc }\n`),
  });
  t.after(() => gw.close());
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parent = '00f067aa0ba902b7';
  await (await request(`${gw.url}/t`, { headers: { traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=x' } })).body.dump();
  const sent = String(origin.seen[0]!.headers.traceparent);
  const [, gotTrace, gotParent, flags] = sent.split('-');
  assert.equal(gotTrace, traceId);
  assert.notEqual(gotParent, parent);
  assert.match(gotParent!, /^[0-9a-f]{16}$/);
  assert.equal(flags, '01');
  assert.equal(origin.seen[0]!.headers.tracestate, 'vendor=x');
  for (let i = 0; i < 50 && !JSON.stringify(exports).includes('upstream svc'); i++) await new Promise((r) => setTimeout(r, 100));
  const all = JSON.stringify(exports);
  assert.match(all, /"GET traced"/);
  assert.match(all, /"upstream svc"/);
  assert.match(all, /gw-test/);
  assert.ok(all.includes(traceId), 'exported spans carry the client trace id');
  // the upstream call's span id is the parent the upstream saw
  assert.ok(all.includes(gotParent!), 'the client span exported is the one sent upstream');
});

test('without tracing the traceparent passes through untouched', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], `  - id: r\n    match: { path: /r }\n    upstream: { service: svc }\n`) });
  t.after(() => gw.close());
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  await (await request(`${gw.url}/r`, { headers: { traceparent: tp } })).body.dump();
  assert.equal(origin.seen[0]!.headers.traceparent, tp);
});

/** A pino logger whose lines land in an array. */
function capturedLog(): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) })) };
}

test('access log: one JSON line per request with the fields, and no secret', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const { lines, logger } = capturedLog();
  const gw = await startGateway(
    { 'routes.d/a.yaml': routeFile([origin.url], `  - id: logged\n    match: { path: /l }\n    upstream: { service: svc }\n`) },
    { logger },
  );
  t.after(() => gw.close());
  await (
    await request(`${gw.url}/l?api_key=SECRET1&page=2`, { headers: { authorization: 'Bearer SECRET2', cookie: 'session=SECRET3', 'x-request-id': 'log-1' } })
  ).body.dump();
  const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request')!;
  assert.ok(line, lines.join(''));
  assert.equal(line.reqId, 'log-1');
  assert.equal(line.route, 'logged');
  assert.equal(line.method, 'GET');
  assert.equal(line.path, '/l?api_key=[redacted]&page=2');
  assert.equal(line.status, 200);
  assert.equal(typeof line.ms, 'number');
  assert.equal(line.target, origin.url);
  assert.equal(typeof line.bytes, 'number');
  assert.equal(line.client, '127.0.0.1');
  assert.ok('consumer' in line && 'time' in line);
  assert.doesNotMatch(lines.join(''), /SECRET/);
});

test('logging.accessLog: false writes no request lines; server.timing adds Server-Timing', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const { lines, logger } = capturedLog();
  const gw = await startGateway(
    {
      'gatehouse.yaml': 'admin: { enabled: false }\nlogging: { accessLog: false }\nserver: { timing: true }\n',
      'routes.d/a.yaml': routeFile([origin.url], `  - id: r\n    match: { path: /r }\n    upstream: { service: svc }\n`),
    },
    { logger },
  );
  t.after(() => gw.close());
  const res = await request(`${gw.url}/r`);
  await res.body.dump();
  assert.match(String(res.headers['server-timing']), /^gateway;dur=[\d.]+, upstream;dur=[\d.]+$/);
  assert.equal(lines.filter((l) => l.includes('"msg":"request"')).length, 0);
});

test('access log: the client address is logged also when the client closes as soon as the answer arrives', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const { lines, logger } = capturedLog();
  const gw = await startGateway(
    { 'routes.d/a.yaml': routeFile([origin.url], `  - id: posted\n    match: { path: /p }\n    upstream: { service: svc }\n`) },
    { logger },
  );
  t.after(() => gw.close());
  const { port } = new URL(gw.url);
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      const body = '{"a":1}';
      const sock = net.connect(Number(port), '127.0.0.1', () => {
        sock.write(`POST /p HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      });
      sock.once('data', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', reject);
    });
  }
  const deadline = Date.now() + 5000;
  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  while (logged().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    logged().map((l) => [l.method, l.status, l.client]),
    [
      ['POST', 200, '127.0.0.1'],
      ['POST', 200, '127.0.0.1'],
      ['POST', 200, '127.0.0.1'],
    ],
  );
});
