import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw-client.js';
import { closedPort, startOrigin, startRawOrigin, type Origin, type OriginHandler } from '../helpers/upstream.js';

type T = { after: (fn: () => Promise<void>) => void };
const ALL = `  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`;

async function setup(t: T, opts: { handler?: OriginHandler; routes?: string; settings?: string; serviceExtra?: string } = {}): Promise<{ gw: RunningGateway; origin: Origin }> {
  const origin = await startOrigin(opts.handler);
  t.after(() => origin.close());
  const files: Record<string, string> = { 'routes.d/a.yaml': routeFile([origin.url], opts.routes ?? ALL, opts.serviceExtra) };
  if (opts.settings) files['gatehouse.yaml'] = opts.settings;
  const gw = await startGateway(files);
  t.after(() => gw.close());
  return { gw, origin };
}

async function problem(res: Awaited<ReturnType<typeof request>>): Promise<{ code: string; status: number; requestId: string }> {
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = (await res.body.json()) as { code: string; status: number; requestId: string };
  assert.equal(body.requestId, res.headers['x-request-id']);
  return body;
}

test('proxies a GET with stripPrefix and keeps the query string', async (t) => {
  const { gw, origin } = await setup(t, { routes: `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc, stripPrefix: /api }\n` });
  const res = await request(`${gw.url}/api/orders/7?x=1&y=2`);
  assert.equal(res.statusCode, 200);
  assert.equal(((await res.body.json()) as { url: string }).url, '/orders/7?x=1&y=2');
  assert.equal(origin.seen.length, 1);
});

test('x-request-id is kept when sent, generated otherwise, and sent upstream and back', async (t) => {
  const { gw, origin } = await setup(t);
  const kept = await request(`${gw.url}/a`, { headers: { 'x-request-id': 'abc-123' } });
  await kept.body.dump();
  assert.equal(kept.headers['x-request-id'], 'abc-123');
  assert.equal(origin.seen[0]!.headers['x-request-id'], 'abc-123');
  const made = await request(`${gw.url}/b`);
  await made.body.dump();
  assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(origin.seen[1]!.headers['x-request-id'], made.headers['x-request-id']);
});

test('X-Forwarded-* with trustProxy false: peer appended, proto and host the gateway own; Forwarded dropped', async (t) => {
  const { gw, origin } = await setup(t);
  const res = await request(`${gw.url}/a`, {
    headers: { host: 'shop.test', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil', forwarded: 'for=6.6.6.6' },
  });
  await res.body.dump();
  const h = origin.seen[0]!.headers;
  assert.equal(h['x-forwarded-for'], '6.6.6.6, 127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'shop.test');
  assert.equal(h.forwarded, undefined);
  assert.equal(h.host, new URL(origin.url).host, 'the upstream sees its own host unless preserveHost');
});

test('X-Forwarded-Proto/Host from a trusted proxy are kept', async (t) => {
  const { gw, origin } = await setup(t, { settings: 'admin: { enabled: false }\nserver: { trustProxy: true }\n' });
  const res = await request(`${gw.url}/a`, { headers: { 'x-forwarded-for': '10.0.0.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'public.example' } });
  await res.body.dump();
  const h = origin.seen[0]!.headers;
  assert.equal(h['x-forwarded-proto'], 'https');
  assert.equal(h['x-forwarded-host'], 'public.example');
  assert.equal(h['x-forwarded-for'], '10.0.0.9, 127.0.0.1');
});

test('preserveHost sends the client Host upstream', async (t) => {
  const { gw, origin } = await setup(t, { routes: `  - id: all\n    match: { path: /* }\n    upstream: { service: svc, preserveHost: true }\n` });
  await (await request(`${gw.url}/a`, { headers: { host: 'shop.test' } })).body.dump();
  assert.equal(origin.seen[0]!.headers.host, 'shop.test');
});

test('hop-by-hop headers, and headers named in Connection, never cross either way', async (t) => {
  const { gw, origin } = await setup(t, {
    handler: (_req, res) => {
      res.setHeader('connection', 'x-up-secret');
      res.setHeader('x-up-secret', '1');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('server', 'origin/1.0');
      res.setHeader('x-powered-by', 'php');
      res.setHeader('x-fine', 'yes');
      res.end('ok');
    },
  });
  const port = gw.gateway.address().port;
  const res = await rawRequest(
    port,
    'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: Basic eDp5\r\n\r\n',
  );
  assert.equal(res.status, 200);
  const h = origin.seen[0]!.headers;
  for (const name of ['x-secret', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'proxy-authorization']) assert.equal(h[name], undefined, name);
  assert.equal(res.headers['x-up-secret'], undefined);
  assert.equal(res.headers['keep-alive'], undefined);
  assert.equal(res.headers.server, undefined);
  assert.equal(res.headers['x-powered-by'], undefined);
  assert.equal(res.headers['x-fine'], 'yes');
});

test('upstream.keepHeaders keeps Server and X-Powered-By', async (t) => {
  const { gw } = await setup(t, {
    routes: `  - id: all\n    match: { path: /* }\n    upstream: { service: svc, keepHeaders: [Server] }\n`,
    handler: (_req, res) => {
      res.setHeader('server', 'origin/1.0');
      res.setHeader('x-powered-by', 'php');
      res.end('ok');
    },
  });
  const res = await request(`${gw.url}/a`);
  await res.body.dump();
  assert.equal(res.headers.server, 'origin/1.0');
  assert.equal(res.headers['x-powered-by'], undefined);
});

test('Expect: 100-continue POST is proxied', async (t) => {
  const { gw, origin } = await setup(t);
  const port = gw.gateway.address().port;
  const socket = (await import('node:net')).connect(port, '127.0.0.1');
  socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
  let seen = '';
  await new Promise<void>((resolve) => {
    socket.on('data', (d) => {
      seen += d.toString();
      if (seen.includes('100 Continue') && !seen.includes('200 OK')) socket.write('hello');
    });
    socket.on('close', () => resolve());
  });
  assert.match(seen, /HTTP\/1.1 100 Continue/);
  assert.match(seen, /HTTP\/1.1 200 OK/);
  assert.equal(origin.seen[0]!.body.toString(), 'hello');
  assert.equal(origin.seen[0]!.headers.expect, undefined);
});

test('pipelined requests are answered in order', async (t) => {
  const { gw } = await setup(t);
  const res = await rawRequest(gw.gateway.address().port, 'GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const urls = [...res.raw.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(urls, ['/one', '/two', '/three']);
});

test('a 100 MB upload and download stream through without being buffered', async (t) => {
  const SIZE = 100 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  const http = await import('node:http');
  // An origin that counts bytes instead of keeping them.
  const origin = http.createServer((req, res) => {
      if (req.method === 'GET') {
        res.setHeader('content-length', SIZE);
        let sent = 0;
        const pump = () => {
          while (sent < SIZE) {
            sent += chunk.length;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(`uploaded ${n}`));
      }
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => origin.close(() => r())));
  const port = (origin.address() as import('node:net').AddressInfo).port;
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { bodyLimit: 200mb }\n',
    'routes.d/a.yaml': routeFile([`http://127.0.0.1:${port}`], ALL),
  });
  t.after(() => gw.close());
  const before = process.memoryUsage().rss;
  let peak = before;
  const probe = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  t.after(() => clearInterval(probe));
  // download
  const down = await request(`${gw.url}/big`);
  const hash = createHash('sha256');
  let got = 0;
  for await (const c of down.body) {
    got += (c as Buffer).length;
    hash.update(c as Buffer);
  }
  assert.equal(got, SIZE);
  // upload (chunked, so the mid-stream limit path is exercised too)
  let left = SIZE;
  const body = new Readable({
    read() {
      if (left <= 0) return this.push(null);
      left -= chunk.length;
      this.push(chunk);
    },
  });
  const up = await request(`${gw.url}/big`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(await up.body.text(), `uploaded ${SIZE}`);
  clearInterval(probe);
  // Gateway, origin and client share this process: 100 MB buffered anywhere would show.
  assert.ok(peak - before < 80 * 1024 * 1024, `rss grew by ${Math.round((peak - before) / 1e6)} MB`);
});

test('413 by Content-Length before anything reaches the upstream', async (t) => {
  const { gw, origin } = await setup(t, { settings: 'admin: { enabled: false }\nserver: { bodyLimit: 1kb }\n' });
  const res = await request(`${gw.url}/up`, { method: 'POST', body: 'x'.repeat(2048), headers: { 'content-type': 'text/plain' } });
  assert.equal(res.statusCode, 413);
  assert.equal((await problem(res)).code, 'PAYLOAD_TOO_LARGE');
  assert.equal(origin.seen.length, 0);
});

test('413 mid-stream for a chunked body: the upstream request is aborted, never completed', async (t) => {
  const { gw, origin } = await setup(t, { settings: 'admin: { enabled: false }\nserver: { bodyLimit: 64kb }\n' });
  let n = 0;
  const body = new Readable({
    read() {
      this.push(n++ < 10 ? Buffer.alloc(16 * 1024, 'y') : null);
    },
  });
  const res = await request(`${gw.url}/up`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(res.statusCode, 413);
  assert.equal((await problem(res)).code, 'PAYLOAD_TOO_LARGE');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(origin.seen.length, 0, 'the origin never saw a complete request');
});

test('request-size plugin sets a per-route limit', async (t) => {
  const { gw } = await setup(t, {
    routes: `  - id: small\n    match: { path: /small }\n    upstream: { service: svc }\n    plugins:\n      - request-size: { limit: 10 }\n  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`,
  });
  const small = await request(`${gw.url}/small`, { method: 'POST', body: 'x'.repeat(11), headers: { 'content-type': 'text/plain' } });
  assert.equal(small.statusCode, 413);
  await small.body.dump();
  const other = await request(`${gw.url}/other`, { method: 'POST', body: 'x'.repeat(11), headers: { 'content-type': 'text/plain' } });
  assert.equal(other.statusCode, 200);
  await other.body.dump();
});

const SLOW_SEND_PLUGIN = `
import { definePlugin, Type } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};
export default definePlugin({
  name: 'slow-send',
  config: Type.Object({}),
  create() {
    return { onSend: async (_request, _reply, payload) => { await new Promise((r) => setTimeout(r, 100)); return payload; } };
  },
});
`;

test('request-size 413 sends nothing upstream, also when a plugin has a slow async onSend hook', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const routes = `  - id: small\n    match: { path: /small }\n    upstream: { service: svc }\n    plugins:\n      - request-size: { limit: 10 }\n      - slow-send\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], routes), 'plugins/slow-send.ts': SLOW_SEND_PLUGIN });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/small`, { method: 'POST', body: 'x'.repeat(11), headers: { 'content-type': 'text/plain' } });
  assert.equal(res.statusCode, 413);
  assert.equal((await problem(res)).code, 'PAYLOAD_TOO_LARGE');
  await new Promise((r) => setTimeout(r, 200)); // anything wrongly proxied would have reached the origin by now
  assert.equal(origin.seen.length, 0);
});

test('503 UPSTREAM_UNAVAILABLE when the upstream refuses connections', async (t) => {
  const port = await closedPort();
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([`http://127.0.0.1:${port}`], ALL) });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/x`);
  assert.equal(res.statusCode, 503);
  assert.equal((await problem(res)).code, 'UPSTREAM_UNAVAILABLE');
});

test('504 UPSTREAM_TIMEOUT after the service timeout; the route timeout overrides it', async (t) => {
  const { gw } = await setup(t, {
    serviceExtra: '    timeout: 5s\n',
    routes: `  - id: slow\n    match: { path: /slow }\n    upstream: { service: svc, timeout: 200ms }\n`,
    handler: (_req, res) => setTimeout(() => res.end('late'), 1500),
  });
  const res = await request(`${gw.url}/slow`);
  assert.equal(res.statusCode, 504);
  assert.equal((await problem(res)).code, 'UPSTREAM_TIMEOUT');
});

test('502 BAD_GATEWAY on a reset, on garbage, and on status 999', async (t) => {
  const reset = await startRawOrigin((s) => s.destroy());
  const garbage = await startRawOrigin((s) => s.end('NOT HTTP AT ALL\r\n\r\n'));
  const weird = await startRawOrigin((s) => s.end('HTTP/1.1 999 Odd\r\ncontent-length: 2\r\n\r\nok'));
  t.after(() => Promise.all([reset.close(), garbage.close(), weird.close()]).then(() => undefined));
  for (const o of [reset, garbage, weird]) {
    const gw = await startGateway({ 'routes.d/a.yaml': routeFile([o.url], ALL) });
    const res = await request(`${gw.url}/x`);
    assert.equal(res.statusCode, 502, o.url);
    assert.equal((await problem(res)).code, 'BAD_GATEWAY');
    await gw.close();
  }
});

test('a reset mid-body aborts the client response instead of completing it', async (t) => {
  const o = await startRawOrigin((s) => {
    s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\npartial');
    setTimeout(() => s.destroy(), 50);
  });
  t.after(() => o.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([o.url], ALL) });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/x`);
  assert.equal(res.statusCode, 200);
  await assert.rejects(res.body.text());
});

test('a client that hangs up aborts the upstream request', async (t) => {
  let upstreamClosed: () => void;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  const { gw } = await setup(t, {
    handler: (req, res) => {
      res.on('close', () => upstreamClosed());
      res.write('start');
    },
  });
  const ac = new AbortController();
  const res = await request(`${gw.url}/stream`, { signal: ac.signal });
  assert.equal(res.statusCode, 200);
  ac.abort();
  await closed;
});
