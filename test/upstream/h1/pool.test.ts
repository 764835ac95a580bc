import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { H1Handler, H1Request } from '../../../src/upstream/h1/connection.js';
import { H1Pool } from '../../../src/upstream/h1/pool.js';
import { closedPort } from '../../helpers/upstream.js';
import { waitFor } from '../../helpers/wait-for.js';

type T = { after: (fn: () => unknown) => void };

interface Outcome {
  status: number;
  headers: string[];
  body: Buffer;
}

/** A handler collecting one answer; `pauseFirst` returns false on the first body piece and resumes after `resumeAfter` ms. */
function collect(opts: { pauseFirst?: boolean; resumeAfter?: number; onAbort?: (abort: (err?: Error) => void) => void } = {}): {
  handler: H1Handler;
  done: Promise<Outcome>;
  pieces: number[];
  whilePaused: () => number;
} {
  let status = 0;
  let headers: string[] = [];
  const chunks: Buffer[] = [];
  const pieces: number[] = [];
  let paused = false;
  let whilePaused = 0;
  let resume: () => void = () => undefined;
  let resolve!: (o: Outcome) => void;
  let reject!: (err: Error) => void;
  const done = new Promise<Outcome>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const handler: H1Handler = {
    onConnect: (abort) => opts.onAbort?.(abort),
    onHeaders(s, raw, r) {
      status = s;
      headers = raw;
      resume = r;
      return true;
    },
    onData(chunk) {
      if (paused) whilePaused++;
      chunks.push(chunk);
      pieces.push(chunk.length);
      if (opts.pauseFirst && chunks.length === 1) {
        paused = true;
        setTimeout(() => {
          paused = false;
          resume();
        }, opts.resumeAfter ?? 100);
        return false;
      }
      return true;
    },
    onComplete: () => resolve({ status, headers, body: Buffer.concat(chunks) }),
    onError: reject,
  };
  return { handler, done, pieces, whilePaused: () => whilePaused };
}

const GET = (path = '/', headers: H1Request['headers'] = {}): H1Request => ({ method: 'GET', path, headers, headersTimeout: 2000, bodyTimeout: 2000 });

async function listen(t: T, server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

function pool(t: T, port: number, idleTimeout = 4000): H1Pool {
  const p = new H1Pool('127.0.0.1', port, `127.0.0.1:${port}`, { connectTimeout: 1000, idleTimeout, maxHeadBytes: 16 * 1024 });
  t.after(() => p.destroy());
  return p;
}

/** A raw TCP origin: `onRequest` gets each connection's socket and the bytes of each request head. */
async function rawOrigin(t: T, onRequest: (socket: net.Socket, head: string, n: number) => void): Promise<{ port: number; connections: net.Socket[]; heads: string[] }> {
  const connections: net.Socket[] = [];
  const heads: string[] = [];
  const server = net.createServer((socket) => {
    connections.push(socket);
    const n = connections.length;
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let at: number;
      while ((at = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, at);
        buf = buf.slice(at + 4);
        heads.push(head);
        onRequest(socket, head, n);
      }
    });
  });
  t.after(() => connections.forEach((s) => s.destroy()));
  return { port: await listen(t, server), connections, heads };
}

test('requests share one keep-alive connection; the head carries Host, the headers given (arrays repeated) and Connection: keep-alive', async (t) => {
  const origin = http.createServer((req, res) => res.end(`${req.url} on ${(req.socket as { n?: number }).n}`));
  let n = 0;
  origin.on('connection', (s) => ((s as { n?: number }).n = ++n));
  const port = await listen(t, origin);
  t.after(() => origin.closeAllConnections());
  const raw = await rawOrigin(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const p = pool(t, port);
  for (const path of ['/a', '/b', '/c']) {
    const c = collect();
    p.dispatch(GET(path), c.handler);
    const out = await c.done;
    assert.equal(out.body.toString(), `${path} on 1`);
  }
  assert.equal(n, 1);
  assert.equal(p.size, 1);

  const rp = pool(t, raw.port);
  const c = collect();
  rp.dispatch(GET('/x?q=1', { 'x-one': '1', 'set-thing': ['a', 'b'] }), c.handler);
  await c.done;
  assert.deepEqual(raw.heads[0]!.split('\r\n'), ['GET /x?q=1 HTTP/1.1', `host: 127.0.0.1:${raw.port}`, 'x-one: 1', 'set-thing: a', 'set-thing: b', 'connection: keep-alive']);
  const withHost = collect();
  rp.dispatch(GET('/y', { host: 'client.example' }), withHost.handler);
  await withHost.done;
  assert.deepEqual(raw.heads[1]!.split('\r\n').slice(0, 2), ['GET /y HTTP/1.1', 'host: client.example']);
});

test('a connection the upstream closed while idle is dropped from the pool: the next request opens a new one', async (t) => {
  const raw = await rawOrigin(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    setTimeout(() => socket.end(), 20);
  });
  const p = pool(t, raw.port);
  for (let i = 0; i < 2; i++) {
    const c = collect();
    p.dispatch(GET(), c.handler);
    assert.equal((await c.done).body.toString(), 'ok');
    await waitFor(() => p.size === 0, 'the closed connection to leave the pool');
  }
  assert.equal(raw.connections.length, 2);
});

test('Connection: close, a close-delimited body and extra bytes after an answer each end the connection after it', async (t) => {
  const answers = [
    'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nbEXTRA',
    'HTTP/1.1 200 OK\r\n\r\nclose-delimited',
  ];
  const raw = await rawOrigin(t, (socket, _head, n) => {
    socket.write(answers[n - 1]!);
    if (n === 3) socket.end();
  });
  const p = pool(t, raw.port);
  const bodies: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = collect();
    p.dispatch(GET(), c.handler);
    bodies.push((await c.done).body.toString());
  }
  assert.deepEqual(bodies, ['a', 'b', 'close-delimited']);
  assert.equal(raw.connections.length, 3);
});

test('failures carry the codes the classifier knows: refused, headers timeout, body timeout, cut short, malformed', async (t) => {
  const refused = collect();
  pool(t, await closedPort()).dispatch(GET(), refused.handler);
  await assert.rejects(refused.done, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');

  const raw = await rawOrigin(t, (socket, head) => {
    const path = head.split(' ')[1];
    if (path === '/silent') return;
    if (path === '/stall') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    if (path === '/cut') socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    if (path === '/cut-head') socket.end('HTTP/1.1 200 OK\r\nContent-Le');
    if (path === '/bad') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab');
  });
  const p = pool(t, raw.port);
  const expect = async (path: string, code: string, timeouts: Partial<H1Request> = {}) => {
    const c = collect();
    p.dispatch({ ...GET(path), ...timeouts }, c.handler);
    await assert.rejects(c.done, (err: { code?: string }) => err.code === code, path);
  };
  await expect('/silent', 'UND_ERR_HEADERS_TIMEOUT', { headersTimeout: 150 });
  await expect('/stall', 'UND_ERR_BODY_TIMEOUT', { bodyTimeout: 150 });
  await expect('/cut', 'UND_ERR_SOCKET');
  await expect('/cut-head', 'UND_ERR_SOCKET');
  await expect('/bad', 'HPE_UNEXPECTED_CONTENT_LENGTH');
  assert.equal(p.size, 0);
});

test('a header value or path that would break the message is refused before anything is sent', async (t) => {
  const raw = await rawOrigin(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  const p = pool(t, raw.port);
  for (const req of [GET('/', { 'x-evil': 'a\r\nx-injected: 1' }), GET('/a b'), GET('/\r\nx: y')]) {
    const c = collect();
    p.dispatch(req, c.handler);
    await assert.rejects(c.done, (err: { code?: string }) => err.code === 'UND_ERR_INVALID_ARG');
  }
  const ok = collect();
  p.dispatch(GET(), ok.handler);
  await ok.done;
  assert.equal(raw.heads.length, 1);
});

test('backpressure: a handler that returns false gets nothing more until it resumes, then the whole body', async (t) => {
  const body = Buffer.alloc(4 * 1024 * 1024, 'x');
  const origin = http.createServer((_req, res) => res.end(body));
  const port = await listen(t, origin);
  t.after(() => origin.closeAllConnections());
  const c = collect({ pauseFirst: true, resumeAfter: 150 });
  pool(t, port).dispatch(GET(), c.handler);
  const out = await c.done;
  assert.equal(out.body.length, body.length);
  assert.ok(c.pieces.length > 1);
  assert.equal(c.whilePaused(), 0, 'no piece while paused');
});

test('abort ends the request with the error given and closes its connection; close() waits for requests in flight, then refuses more', async (t) => {
  let abort: ((err?: Error) => void) | undefined;
  const raw = await rawOrigin(t, (socket, head) => {
    if (head.startsWith('GET /slow')) setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow'), 100);
  });
  const p = pool(t, raw.port);
  const c = collect({ onAbort: (a) => (abort = a) });
  p.dispatch(GET('/hang'), c.handler);
  await waitFor(() => raw.heads.length === 1, 'the request to arrive');
  abort!(new Error('client left'));
  await assert.rejects(c.done, /client left/);
  await waitFor(() => raw.connections[0]!.destroyed || raw.connections[0]!.readableEnded, 'the upstream to see the connection close');

  const slow = collect();
  p.dispatch(GET('/slow'), slow.handler);
  await waitFor(() => raw.heads.length === 2, 'the slow request to arrive');
  let closed = false;
  const closing = p.close().then(() => (closed = true));
  assert.equal(closed, false);
  assert.equal((await slow.done).body.toString(), 'slow');
  await closing;
  assert.equal(p.size, 0);
  const late = collect();
  p.dispatch(GET(), late.handler);
  await assert.rejects(late.done, (err: { code?: string }) => err.code === 'UND_ERR_CLOSED');
});

test('an idle connection closes after the idle time, or the upstream Keep-Alive hint less a second when shorter', async (t) => {
  const raw = await rawOrigin(t, (socket, head) => {
    const hinted = head.startsWith('GET /hint');
    socket.write(`HTTP/1.1 200 OK\r\n${hinted ? 'Keep-Alive: timeout=1\r\n' : ''}Content-Length: 0\r\n\r\n`);
  });
  const p = pool(t, raw.port, 150);
  const c = collect();
  p.dispatch(GET(), c.handler);
  await c.done;
  assert.equal(p.size, 1);
  await waitFor(() => p.size === 0, 'the idle connection to close');
  // timeout=1 s less a second leaves nothing: the connection is not kept at all.
  const long = pool(t, raw.port, 10_000);
  const h = collect();
  long.dispatch(GET('/hint'), h.handler);
  await h.done;
  assert.equal(long.size, 0);
});
