import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { createLogger } from '../../src/logger.js';
import { accessLogEntry, accessLogText, accessLogWriter, type ServedRequest } from '../../src/observability/access-log.js';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

const withoutTime = (line: string) => line.replace(/,"time":"[^"]+"/, '');

function captured(level = 'info') {
  const lines: string[] = [];
  return { lines, logger: createLogger(level, { write: (l) => lines.push(l) }) };
}

const SERVED: ServedRequest[] = [
  { routeId: 'r1', method: 'GET', url: '/a?b=1', status: 200, ms: 1.23456, contentLength: '99', ip: '127.0.0.1', state: { target: 'http://127.0.0.1:1', consumer: 'alice' } as never },
  { routeId: undefined, method: 'POST', url: '/odd/"quoted"\\path/\u0001/é/\ud800?token=x', status: 502, ms: 0, contentLength: undefined, ip: undefined, state: null },
  { routeId: 'r2', method: 'GET', url: '/n', status: 200, ms: 3, contentLength: 'not a number', ip: '::1', state: { bytes: 12 } as never },
  { routeId: 'r3', method: 'GET', url: '/s', status: 200, ms: 3, contentLength: undefined, ip: '::1', state: { bytes: 12 } as never },
];

test('the access-log line made as text is the line pino writes for the same entry, byte for byte (escapes, nulls, redaction)', () => {
  const redact = new Set(['token']);
  for (const served of SERVED) {
    const { lines, logger } = captured();
    logger.child({ reqId: 'id-"1"' }).info(accessLogEntry(served, redact), 'request');
    const direct = accessLogText(served, 'id-"1"', redact, { base: `,"pid":${process.pid}` });
    assert.equal(withoutTime(direct), withoutTime(lines[0]!), served.url);
    assert.match(direct, /^\{"level":30,"time":"\d{4}-\d\d-\d\dT[\d:.]+Z","pid":\d+,/);
    assert.ok(direct.endsWith('"msg":"request"}\n'));
  }
});

test("the writer hands the gateway logger's lines straight to its output, honours the level, and other loggers still get the entry", () => {
  const served = SERVED[0]!;
  const info = captured('info');
  let childMade = 0;
  accessLogWriter(info.logger, new Set())(served, 'rid-1', () => (childMade++, info.logger.child({ reqId: 'rid-1' })));
  assert.equal(info.lines.length, 1);
  assert.equal(childMade, 0, 'no request logger is made for the line');
  assert.equal((JSON.parse(info.lines[0]!) as { reqId: string }).reqId, 'rid-1');

  const warn = captured('warn');
  accessLogWriter(warn.logger, new Set())(served, 'rid-2', () => warn.logger.child({ reqId: 'rid-2' }));
  assert.equal(warn.lines.length, 0, 'level warn: no request lines');

  const seen: Array<[unknown, string]> = [];
  const other = { info: (obj: unknown, msg: string) => seen.push([obj, msg]) };
  accessLogWriter(other as never, new Set())(served, 'rid-3', () => other as never);
  assert.deepEqual(seen, [[accessLogEntry(served, new Set()), 'request']]);
});

test('a gateway with its own logger writes the same access-log line on the fast lane and through Fastify (a route with a plugin)', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const { lines, logger } = captured();
  const routes =
    `  - id: lane\n    match: { path: /lane }\n    upstream: { service: svc }\n` +
    `  - id: chain\n    match: { path: /chain }\n    upstream: { service: svc }\n    plugins:\n      - headers: { request: { set: { x-a: "1" } } }\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], routes) }, { logger });
  t.after(() => gw.close());
  for (const p of ['/lane?secret=1', '/chain']) {
    await (await request(`${gw.url}${p}`, { headers: { 'x-request-id': `rid${p.slice(0, 6)}` } })).body.dump();
  }
  const deadline = Date.now() + 5000;
  const requestLines = () => lines.filter((l) => l.includes('"msg":"request"'));
  while (requestLines().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const parsed = requestLines().map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    parsed.map((l) => [l.reqId, l.route, l.path, l.status, l.target, l.client]),
    [
      ['rid/lane?', 'lane', '/lane?secret=[redacted]', 200, origin.url, '127.0.0.1'],
      ['rid/chain', 'chain', '/chain', 200, origin.url, '127.0.0.1'],
    ],
  );
  for (const l of parsed) assert.deepEqual(Object.keys(l), ['level', 'time', 'pid', 'reqId', 'route', 'method', 'path', 'status', 'ms', 'target', 'bytes', 'client', 'consumer', 'msg']);
});
