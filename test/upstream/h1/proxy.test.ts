// The gateway's own HTTP/1.1 client behind a plain route, as a client sees it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { Client, request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startCountingOrigin, startRawOrigin } from '../../helpers/upstream.js';

type T = { after: (fn: () => unknown) => void };

const ROUTE = '  - id: r\n    match: { path: /* }\n    upstream: { service: svc }\n';

async function origin(t: T, handler: http.RequestListener): Promise<{ url: string; connections: () => number }> {
  const o = await startCountingOrigin((req, res) => handler(req, res));
  t.after(() => o.close());
  return o;
}

test('HEAD, 204 and 304 answers carry no body and leave the upstream connection reusable', async (t) => {
  const up = await origin(t, (req, res) => {
    if (req.url === '/empty') return void res.writeHead(204).end();
    if (req.url === '/cached') return void res.writeHead(304, { etag: '"v1"' }).end();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
    res.end(req.method === 'HEAD' ? undefined : 'hello');
  });
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([up.url], ROUTE) });
  t.after(() => gw.close());
  const client = new Client(gw.url);
  t.after(() => client.close());
  const head = await client.request({ method: 'HEAD', path: '/x' });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-length'], '5');
  assert.equal(await head.body.text(), '');
  const empty = await client.request({ method: 'GET', path: '/empty' });
  assert.deepEqual([empty.statusCode, await empty.body.text()], [204, '']);
  const cached = await client.request({ method: 'GET', path: '/cached' });
  assert.deepEqual([cached.statusCode, cached.headers.etag, await cached.body.text()], [304, '"v1"', '']);
  const get = await client.request({ method: 'GET', path: '/x' });
  assert.deepEqual([get.statusCode, await get.body.text()], [200, 'hello']);
  assert.equal(up.connections(), 1);
});

test('a chunked answer streams through piece by piece, and a 4 MiB one arrives whole', async (t) => {
  const big = Buffer.alloc(4 * 1024 * 1024, 'z');
  let gotFirst!: () => void;
  const firstSeen = new Promise<void>((r) => (gotFirst = r));
  const up = await origin(t, (req, res) => {
    if (req.url === '/big') return void res.end(big);
    res.write('first;');
    // The rest only once the client has the first piece: a gateway holding the body back never gets it.
    const late = setTimeout(() => res.end('held back'), 5000);
    void firstSeen.then(() => {
      clearTimeout(late);
      res.end('second');
    });
  });
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([up.url], ROUTE) });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/stream`);
  let text = '';
  for await (const chunk of res.body) {
    text += String(chunk);
    if (text === 'first;') gotFirst();
  }
  assert.equal(text, 'first;second');
  const whole = await request(`${gw.url}/big`);
  assert.equal((await whole.body.arrayBuffer()).byteLength, big.length);
});

test('a malformed upstream answer is 502 BAD_GATEWAY; a silent one 504 UPSTREAM_TIMEOUT', async (t) => {
  const raw = await startRawOrigin((socket, first) => {
    if (first.toString().startsWith('GET /silent')) return;
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc');
  });
  t.after(() => raw.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([raw.url], ROUTE, '    timeout: 300ms\n') });
  t.after(() => gw.close());
  const bad = await request(`${gw.url}/bad`);
  assert.equal(bad.statusCode, 502);
  assert.equal(bad.headers['content-type'], 'application/problem+json');
  assert.equal(((await bad.body.json()) as { code: string }).code, 'BAD_GATEWAY');
  const silent = await request(`${gw.url}/silent`);
  assert.equal(silent.statusCode, 504);
  assert.equal(((await silent.body.json()) as { code: string }).code, 'UPSTREAM_TIMEOUT');
});

test('an upstream that drops each kept-alive connection after its answer: the next request goes out on a fresh one', async (t) => {
  let n = 0;
  const raw = await startRawOrigin((socket) => {
    n++;
    // Keeps the connection by the headers, then closes it a moment later (as a restarting upstream would).
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    setTimeout(() => socket.destroy(), 10);
  });
  t.after(() => raw.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([raw.url], ROUTE, '    retry: { attempts: 1, backoff: 0ms }\n') });
  t.after(() => gw.close());
  for (let i = 0; i < 5; i++) {
    const res = await request(`${gw.url}/x`);
    assert.deepEqual([res.statusCode, await res.body.text()], [200, 'ok']);
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.equal(n, 5);
});
