import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { request } from 'undici';
import { parseRawHeaders } from '../../src/upstream/streamed-answer.js';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { startCountingOrigin, startRawOrigin } from '../helpers/upstream.js';

type T = { after: (fn: () => Promise<void>) => void };

/** An origin whose handler gets the connection number of each request. */
async function countingOrigin(t: T, handler: (req: http.IncomingMessage, res: http.ServerResponse, connection: number) => void): Promise<string> {
  const origin = await startCountingOrigin(handler);
  t.after(() => origin.close());
  return origin.url;
}

const ROUTE = '  - id: r\n    match: { path: /* }\n    upstream: { service: svc }\n';
const RETRY_503 = '    retry: { attempts: 1, backoff: 0ms, on: [503] }\n';

test('raw upstream headers: names lower-cased, repeated names (Set-Cookie) become arrays', () => {
  const raw = ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'X-Three', '1', 'x-three', '2', 'X-THREE', '3'].map((s) => Buffer.from(s));
  assert.deepEqual(parseRawHeaders(raw), { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-three': ['1', '2', '3'] });
});

test('a 103 Early Hints before the answer is skipped: the client gets the final status and body', async (t) => {
  const url = await countingOrigin(t, (_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload' });
    res.end('final');
  });
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([url], ROUTE) });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/x`);
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), 'final');
});

test('a status that is no HTTP status (600) is 502 BAD_GATEWAY before anything is sent', async (t) => {
  const origin = await startRawOrigin((socket) => socket.end('HTTP/1.1 600 Odd\r\ncontent-length: 2\r\n\r\nno'));
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], ROUTE) });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/x`);
  assert.equal(res.statusCode, 502);
  assert.equal(((await res.body.json()) as { code: string }).code, 'BAD_GATEWAY');
});

test('a retried answer with a small body is read to its end and its connection reused; a big one closes its connection', async (t) => {
  const seen: { url: string; connection: number; cut: boolean }[] = [];
  const url = await countingOrigin(t, (req, res, connection) => {
    const entry = { url: req.url!, connection, cut: false };
    seen.push(entry);
    res.on('close', () => (entry.cut = !res.writableFinished));
    const first = seen.filter((s) => s.url === req.url).length === 1;
    if (!first) return res.end('second try');
    res.statusCode = 503;
    if (req.url === '/small') return res.end('busy');
    // Big: 8 MiB the gateway must not read to the end just to throw it away.
    const chunk = Buffer.alloc(64 * 1024, 'b');
    let left = 128;
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([url], ROUTE, RETRY_503) });
  t.after(() => gw.close());
  const small = await request(`${gw.url}/small`);
  assert.equal(small.statusCode, 200);
  assert.equal(await small.body.text(), 'second try');
  const [s1, s2] = seen;
  assert.equal(s1!.cut, false, 'the small discarded answer was read to its end');
  // Its connection went back to the pool: the next requests need no new one.
  for (const path of ['/small', '/small']) await (await request(`${gw.url}${path}`)).body.dump();
  const used = new Set(seen.map((s) => s.connection));
  assert.equal(used.size, new Set([s1!.connection, s2!.connection]).size);

  const big = await request(`${gw.url}/big`);
  assert.equal(big.statusCode, 200);
  assert.equal(await big.body.text(), 'second try');
  const b1 = seen.find((s) => s.url === '/big')!;
  assert.equal(b1.cut, true, 'the big discarded answer was cut off, not read to its end');
});

test('bodiless requests go through the gateway’s own HTTP/1.1 pool, requests with a body through undici’s', async (t) => {
  const seen: { method: string; connection: number; body: string }[] = [];
  const url = await countingOrigin(t, (req, res, connection) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, connection, body });
      res.end('ok');
    });
  });
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([url], ROUTE) });
  t.after(() => gw.close());
  for (const method of ['GET', 'DELETE', 'GET'] as const) assert.equal((await request(`${gw.url}/x`, { method })).statusCode, 200);
  const target = gw.gateway.serviceSet.get('svc')!.list()[0]!;
  assert.equal(target.h1?.size, 1);
  assert.equal((await request(`${gw.url}/x`, { method: 'POST', body: 'payload' })).statusCode, 200);
  assert.deepEqual(
    seen.map((s) => [s.method, s.connection, s.body]),
    [
      ['GET', 1, ''],
      ['DELETE', 1, ''],
      ['GET', 1, ''],
      ['POST', 2, 'payload'],
    ],
  );
  assert.equal(target.h1?.size, 1);
});
