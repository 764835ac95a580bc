/** `server.http2: true`: HTTP/2 over TLS (ALPN, HTTP/1.1 on the same port) and h2c, through the whole gateway. */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { Agent, request } from 'undici';
import { routeFile, startGateway, type RunningGateway } from './helpers/gateway.js';
import { h2connect, h2request } from './helpers/h2.js';
import { waitUntil } from './helpers/wait-until.js';
import { selfSignedCert } from './helpers/tls.js';
import { startOrigin, type Origin, type OriginHandler } from './helpers/upstream.js';

const ALL = `  - id: all\n    match: { path: /api/* }\n    upstream: { service: svc }\n`;
const cert = selfSignedCert();
// Node warns (once per process) when a Connection header is set on an HTTP/2 response.
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(w.message));

async function origin(t: TestContext, handler?: OriginHandler): Promise<Origin> {
  const o = await startOrigin(handler);
  t.after(() => o.close());
  return o;
}

/** A gateway with `server.http2: true` (and TLS unless `cleartext`); `server` adds YAML inside `server:`. */
async function h2Gateway(t: TestContext, routes: string, opts: { cleartext?: boolean; server?: string; extra?: Record<string, string> } = {}): Promise<RunningGateway & { h2url: string }> {
  const tls = opts.cleartext ? '' : ', tls: { cert: ./cert.pem, key: ./key.pem }';
  const gw = await startGateway({
    'gatehouse.yaml': `admin: { enabled: false }\nserver: { http2: true${tls}${opts.server ? `, ${opts.server}` : ''} }\n`,
    'cert.pem': cert.cert,
    'key.pem': cert.key,
    'routes.d/a.yaml': routes,
    ...opts.extra,
  });
  t.after(() => gw.close());
  const port = gw.gateway.address().port;
  return { ...gw, h2url: opts.cleartext ? `http://127.0.0.1:${port}` : `https://localhost:${port}` };
}

async function session(t: TestContext, url: string): Promise<http2.ClientHttp2Session> {
  const s = await h2connect(url, { ca: cert.cert });
  t.after(() => s.destroy());
  return s;
}

test('over TLS, ALPN picks h2: a GET and a POST with a streamed body reach an HTTP/1.1 upstream and stream back', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  assert.equal(s.alpnProtocol, 'h2');

  const get = await h2request(s, { ':method': 'GET', ':path': '/api/items?x=1', 'x-custom': 'yes' });
  assert.equal(get.status, 200);
  assert.match(String(get.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  const echoed = JSON.parse(get.body.toString()) as { url: string; headers: Record<string, string> };
  assert.equal(echoed.url, '/api/items?x=1');
  const seen = up.seen[0]!.headers;
  assert.deepEqual(Object.keys(seen).filter((h) => h.startsWith(':')), [], 'no pseudo-header goes upstream');
  assert.equal(seen.host, `127.0.0.1:${up.port}`);
  assert.equal(seen['x-forwarded-host'], `localhost:${gw.gateway.address().port}`);
  assert.equal(seen['x-forwarded-proto'], 'https');
  assert.equal(seen['x-custom'], 'yes');

  // No content-length: the body's length is known only when the stream ends.
  const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(10_000, 97 + i));
  const post = await h2request(s, { ':method': 'POST', ':path': '/api/upload', 'content-type': 'application/octet-stream' }, parts);
  assert.equal(post.status, 200);
  assert.deepEqual(up.seen[1]!.body, Buffer.concat(parts));
  assert.equal(up.seen[1]!.method, 'POST');

  // A body-less POST without content-type also gets its body upstream.
  const bare = await h2request(s, { ':method': 'POST', ':path': '/api/bare' }, [Buffer.from('hello')]);
  assert.equal(bare.status, 200);
  assert.equal(up.seen[2]!.body.toString(), 'hello');
});

test('the upstream response body streams to the h2 client (large and chunked)', async (t) => {
  const big = Buffer.alloc(3 * 1024 * 1024, 'z');
  const up = await origin(t, (_req, res) => {
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('keep-alive', 'timeout=5');
    res.write(big.subarray(0, 1024));
    setTimeout(() => res.end(big.subarray(1024)), 20);
  });
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  const res = await h2request(s, { ':method': 'GET', ':path': '/api/big' });
  assert.equal(res.status, 200);
  assert.equal(res.body.length, big.length);
  assert.equal(res.headers.connection, undefined);
});

test('an HTTP/1.1 client (https) is still served on the same port', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const dispatcher = new Agent({ connect: { ca: cert.cert } });
  t.after(() => dispatcher.close());
  const res = await request(`${gw.h2url}/api/one`, { dispatcher });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  assert.equal(up.seen[0]!.headers['x-forwarded-proto'], 'https');
  const missing = await request(`${gw.h2url}/nowhere`, { dispatcher });
  assert.equal(missing.statusCode, 404);
  assert.match(String(missing.headers['content-type']), /^application\/problem\+json/);
  await missing.body.dump();
});

test('HTTP/1.1 on the TLS port keeps its header timeout: a slow client gets 408', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL), { server: 'timeouts: { headers: 400ms, request: 2s }' });
  const tls = await import('node:tls');
  const socket = tls.connect({ port: gw.gateway.address().port, host: '127.0.0.1', servername: 'localhost', ca: cert.cert, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((r) => socket.once('secureConnect', () => r()));
  assert.equal(socket.alpnProtocol, 'http/1.1');
  let got = '';
  socket.on('data', (d: Buffer) => (got += d.toString()));
  socket.write('GET /api/slow HTTP/1.1\r\nHost: x\r\n');
  const trickle = setInterval(() => socket.writable && socket.write('x-drip: 1\r\n'), 100);
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  clearInterval(trickle);
  assert.match(got, /^HTTP\/1\.1 408 /);
  assert.match(got, /REQUEST_TIMEOUT/);
  assert.equal(up.seen.length, 0);
});

test('a session that opens no stream within timeouts.headers is closed; an idle one after timeouts.keepAlive', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL), { cleartext: true, server: 'timeouts: { headers: 300ms, keepAlive: 400ms }' });
  const silent = await session(t, gw.h2url);
  await new Promise<void>((r) => (silent.destroyed ? r() : silent.once('close', () => r())));
  const used = await session(t, gw.h2url);
  assert.equal((await h2request(used, { ':method': 'GET', ':path': '/api/once' })).status, 200);
  const goaway = new Promise<void>((r) => used.once('goaway', () => r()));
  await goaway;
  await new Promise<void>((r) => (used.destroyed ? r() : used.once('close', () => r())));
  assert.equal(up.seen.length, 1);
});

test('without tls, server.http2 serves h2c with prior knowledge', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL), { cleartext: true });
  const s = await session(t, gw.h2url);
  const get = await h2request(s, { ':method': 'GET', ':path': '/api/plain' });
  assert.equal(get.status, 200);
  assert.equal(up.seen[0]!.headers['x-forwarded-proto'], 'http');
  const post = await h2request(s, { ':method': 'PUT', ':path': '/api/plain', 'content-type': 'text/plain' }, [Buffer.from('a'), Buffer.from('b')]);
  assert.equal(post.status, 200);
  assert.equal(up.seen[1]!.body.toString(), 'ab');
});

test('a 404 over h2 is problem+json with x-request-id (the client-sent one when valid)', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  const res = await h2request(s, { ':method': 'GET', ':path': '/missing', 'x-request-id': 'abc-123' });
  assert.equal(res.status, 404);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.headers['x-request-id'], 'abc-123');
  const problem = JSON.parse(res.body.toString()) as { code: string; requestId: string };
  assert.equal(problem.code, 'ROUTE_NOT_FOUND');
  assert.equal(problem.requestId, 'abc-123');
  assert.equal(up.seen.length, 0);
});

test('plugins run over h2: api-key answers 401 and rate-limit 429', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(
    t,
    routeFile(
      [up.url],
      `  - id: k\n    match: { path: /api/k }\n    upstream: { service: svc }\n    plugins:\n      - api-key: { keys: [ { consumer: c, sha256: "${'0'.repeat(64)}" } ] }\n` +
        `  - id: r\n    match: { path: /api/r }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 1, window: 1h }\n`,
    ),
  );
  const s = await session(t, gw.h2url);
  const denied = await h2request(s, { ':method': 'GET', ':path': '/api/k', 'x-api-key': 'wrong' });
  assert.equal(denied.status, 401);
  assert.equal((JSON.parse(denied.body.toString()) as { code: string }).code, 'UNAUTHENTICATED');
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/r' })).status, 200);
  const limited = await h2request(s, { ':method': 'GET', ':path': '/api/r' });
  assert.equal(limited.status, 429);
  assert.equal((JSON.parse(limited.body.toString()) as { code: string }).code, 'RATE_LIMITED');
  assert.equal(up.seen.length, 1);
});

test('50 concurrent streams on one session are all proxied', async (t) => {
  const up = await origin(t, (req, res) => setTimeout(() => res.end(req.url), 30));
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => h2request(s, { ':method': 'GET', ':path': `/api/n/${i}` })));
  assert.deepEqual(
    answers.map((a) => `${a.status} ${a.body.toString()}`),
    Array.from({ length: 50 }, (_, i) => `200 /api/n/${i}`),
  );
});

test('preserveHost sends the :authority upstream as Host', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], `  - id: p\n    match: { path: /api/* }\n    upstream: { service: svc, preserveHost: true }\n`));
  const s = await session(t, gw.h2url);
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/x' })).status, 200);
  assert.equal(up.seen[0]!.headers.host, `localhost:${gw.gateway.address().port}`);
});

test('header limits over h2: 100 fields besides the pseudo-headers pass, 101 or over 16 KB get 431; Host must match :authority', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v']));
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/h', ...fields(100) })).status, 200);
  const many = await h2request(s, { ':method': 'GET', ':path': '/api/h', ...fields(101) });
  assert.equal(many.status, 431);
  assert.equal((JSON.parse(many.body.toString()) as { code: string }).code, 'HEADERS_TOO_LARGE');
  const port = gw.gateway.address().port;
  const mismatch = await h2request(s, { ':method': 'GET', ':path': '/api/h', ':authority': `localhost:${port}`, host: 'elsewhere.example' });
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.body.toString(), /Host differs from :authority/);
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/h', ':authority': `localhost:${port}`, host: `localhost:${port}` })).status, 200);
  const big = await h2request(s, { ':method': 'GET', ':path': '/api/h', 'x-big': 'b'.repeat(20_000) });
  assert.equal(big.status, 431);
  assert.equal(up.seen.length, 2);
});

test('an unsized h2 body over the body limit is refused with 413', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL), { server: 'bodyLimit: 1kb' });
  const s = await session(t, gw.h2url);
  const res = await h2request(s, { ':method': 'POST', ':path': '/api/up', 'content-type': 'text/plain' }, [Buffer.alloc(800), Buffer.alloc(800)]);
  assert.equal(res.status, 413);
  assert.equal((JSON.parse(res.body.toString()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
  const sized = await h2request(s, { ':method': 'POST', ':path': '/api/up', 'content-length': '2000' }, [Buffer.alloc(2000)]);
  assert.equal(sized.status, 413);
  assert.equal(s.destroyed, false, 'the session outlives a refused stream');
  assert.deepEqual(warnings.filter((w) => /connection header/i.test(w)), [], 'no Connection header on HTTP/2 responses');
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/after' })).status, 200);
});

test('a stream whose body does not arrive within timeouts.request gets 408', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL), { server: 'timeouts: { request: 300ms }' });
  const s = await session(t, gw.h2url);
  const res = await new Promise<{ status: number; body: string; id: unknown }>((resolve, reject) => {
    const stream = s.request({ ':method': 'POST', ':path': '/api/slow', 'content-type': 'text/plain', 'x-request-id': 'slow-1' }, { endStream: false });
    stream.write('partial');
    let status = 0;
    let body = '';
    let id: unknown;
    stream.on('response', (h) => ((status = Number(h[':status'])), (id = h['x-request-id'])));
    stream.on('data', (c: Buffer) => (body += c.toString()));
    stream.on('close', () => resolve({ status, body, id }));
    stream.on('error', reject);
  });
  assert.equal(res.status, 408);
  assert.match(res.body, /REQUEST_TIMEOUT/);
  assert.equal(res.id, 'slow-1');
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/after' })).status, 200);
});

test('a refused stream and a reset stream do not take the gateway down', async (t) => {
  const up = await origin(t, (_req, res) => setTimeout(() => res.end('late'), 200));
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  const stream = s.request({ ':method': 'GET', ':path': '/api/reset' });
  stream.on('error', () => undefined);
  await new Promise((r) => setTimeout(r, 50));
  stream.close(http2.constants.NGHTTP2_CANCEL);
  // A connection that is not HTTP/2 at all (garbage instead of the preface) on the h2c port.
  const net = await import('node:net');
  const plainGw = await h2Gateway(t, routeFile([up.url], ALL), { cleartext: true });
  const garbage = net.connect(plainGw.gateway.address().port, '127.0.0.1');
  garbage.on('error', () => undefined);
  garbage.resume(); // read to the end, so 'close' comes when the gateway hangs up
  garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise<void>((r) => garbage.on('close', () => r()));
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/ok' })).status, 200);
  const s2 = await session(t, plainGw.h2url);
  assert.equal((await h2request(s2, { ':method': 'GET', ':path': '/api/ok' })).status, 200);
});

for (const [how, cut] of [
  ['resets its stream', (stream: http2.ClientHttp2Stream) => stream.destroy()],
  ['drops the connection', (_stream: http2.ClientHttp2Stream, s: http2.ClientHttp2Session) => s.destroy()],
] as const) {
  test(`a client that ${how} mid-body does not leave the upstream a truncated body that looks whole`, async (t) => {
    const events: string[] = [];
    const raw = await import('node:http');
    const watcher = raw.createServer((req, res) => {
      req.on('data', () => events.includes('data') || events.push('data'));
      req.on('end', () => {
        events.push('end');
        res.end();
      });
      req.on('aborted', () => events.push('aborted'));
    });
    await new Promise<void>((r) => watcher.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => (watcher.closeAllConnections(), watcher.close(() => r()))));
    const port = (watcher.address() as import('node:net').AddressInfo).port;
    const gw = await h2Gateway(t, routeFile([`http://127.0.0.1:${port}`], ALL));
    const s = await session(t, gw.h2url);
    const stream = s.request({ ':method': 'POST', ':path': '/api/cut', 'content-type': 'text/plain' }, { endStream: false });
    stream.on('error', () => undefined);
    stream.write('first half');
    await waitUntil(() => events.includes('data'), 'the upstream got the first chunk');
    cut(stream, s);
    await waitUntil(() => events.includes('aborted') || events.includes('end'), 'the upstream saw the request finish or break');
    assert.deepEqual(events, ['data', 'aborted']);
    const again = await session(t, gw.h2url);
    assert.equal((await h2request(again, { ':method': 'GET', ':path': '/api/ok' })).status, 200);
  });
}

test('a client that resets its stream while the response streams stops the upstream response too', async (t) => {
  let upstreamClosed = false;
  const up = await origin(t, (req, res) => {
    if (req.url !== '/api/endless') return res.end('ok');
    const tick = setInterval(() => res.write(Buffer.alloc(16_384, 'r')), 10);
    res.on('close', () => {
      clearInterval(tick);
      upstreamClosed = true;
    });
  });
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  const stream = s.request({ ':method': 'GET', ':path': '/api/endless' });
  stream.on('error', () => undefined);
  await new Promise<void>((r) => stream.once('data', () => r()));
  stream.close(http2.constants.NGHTTP2_CANCEL);
  await waitUntil(() => upstreamClosed, 'the upstream response is abandoned');
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/after' })).status, 200);
});

test('over h2 the access log has its line and the request metrics count the stream', async (t) => {
  const up = await origin(t);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const gw = await startGateway(
    {
      'gatehouse.yaml': 'admin: { enabled: false }\nserver: { http2: true }\n',
      'routes.d/a.yaml': routeFile([up.url], `  - id: h2metrics\n    match: { path: /api/* }\n    upstream: { service: svc }\n`),
    },
    { logger },
  );
  t.after(() => gw.close());
  const s = await session(t, `http://127.0.0.1:${gw.gateway.address().port}`);
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/api/logged?token=1' })).status, 200);
  await waitUntil(() => lines.some((l) => l.includes('"route":"h2metrics"')), 'the access log line is written');
  const line = JSON.parse(lines.find((l) => l.includes('"route":"h2metrics"'))!) as { status: number; path: string; method: string; client: string };
  assert.equal(line.status, 200);
  assert.equal(line.method, 'GET');
  assert.equal(line.path, '/api/logged?token=[redacted]');
  assert.equal(line.client, '127.0.0.1');
  const metrics = (await gw.gateway.metrics()).body;
  assert.match(metrics, /gatehouse_requests_total\{route="h2metrics",method="GET",status="200"\} 1/);
});

test('close drains: GOAWAY, the in-flight stream finishes, no new stream is accepted', async (t) => {
  const up = await origin(t, (_req, res) => setTimeout(() => res.end('finished'), 300));
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  const goaway = new Promise<void>((r) => s.once('goaway', () => r()));
  const inflight = h2request(s, { ':method': 'GET', ':path': '/api/slow' });
  await new Promise((r) => setTimeout(r, 50));
  const closed = gw.gateway.close(5000);
  await goaway;
  await assert.rejects(h2connect(gw.h2url, { ca: cert.cert }), 'no new connection either');
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'finished');
  await closed;
  assert.equal(s.closed || s.destroyed, true);
});

test('close gives up on streams still open after shutdownGrace', async (t) => {
  const up = await origin(t, () => undefined); // never answers
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  const stream = s.request({ ':method': 'GET', ':path': '/api/hang' });
  stream.on('error', () => undefined);
  await new Promise((r) => setTimeout(r, 50));
  await gw.gateway.close(200);
  await new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));
  assert.equal(s.destroyed, true);
});

test('a reload while a session is open: its next stream is served by the new config', async (t) => {
  const up = await origin(t);
  const gw = await h2Gateway(t, routeFile([up.url], ALL));
  const s = await session(t, gw.h2url);
  assert.equal((await h2request(s, { ':method': 'GET', ':path': '/new' })).status, 404);
  await gw.dir.write('routes.d/a.yaml', routeFile([up.url], ALL + `  - id: new\n    match: { path: /new }\n    upstream: { service: svc }\n`));
  assert.deepEqual(await gw.gateway.reload(), { ok: true, generation: 2 });
  const after = await h2request(s, { ':method': 'GET', ':path': '/new' });
  assert.equal(after.status, 200);
  assert.equal(up.seen.at(-1)!.url, '/new');
});
