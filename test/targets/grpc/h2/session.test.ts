/**
 * The HTTP/2 client session against real servers: node:http2 (nghttp2) for flow control both
 * ways, CONTINUATION, SETTINGS, PING, GOAWAY and Huffman-coded, indexed headers; a raw TCP
 * server for a peer that breaks the protocol.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import tls from 'node:tls';
import { selfSignedCert } from '../../../helpers/tls.js';
import { H2Session, STREAM_WINDOW, type StreamListener } from '../../../../src/targets/grpc/h2/session.js';
import { HeaderBlockBuilder, indexedField, STATIC_FIELD, STATIC_NAME } from '../../../../src/targets/grpc/h2/hpack.js';
import { FRAME, settingsFrame } from '../../../../src/targets/grpc/h2/frames.js';

interface Heard {
  headers: http2.IncomingHttpHeaders[];
  data: Buffer;
  end: string;
}

/** Starts a POST stream on `session` and resolves with what it heard once it ended. */
function send(session: H2Session, path: string, body: Buffer, extra: Array<[string, string]> = []): Promise<Heard> {
  const b = new HeaderBlockBuilder()
    .raw(indexedField(STATIC_FIELD.methodPost))
    .raw(indexedField(STATIC_FIELD.schemeHttp))
    .add(':authority', 'test', STATIC_NAME.authority)
    .add(':path', path, STATIC_NAME.path);
  for (const [n, v] of extra) b.add(n, v);
  return new Promise((resolve) => {
    const heard: Heard = { headers: [], data: Buffer.alloc(0), end: '' };
    const chunks: Buffer[] = [];
    const done = (end: string) => resolve({ ...heard, data: Buffer.concat(chunks), end });
    const listener: StreamListener = {
      onHeaders: (h) => heard.headers.push(h),
      onData: (c) => chunks.push(Buffer.from(c)),
      onEnd: () => done('end'),
      onReset: (code) => done(`reset ${code}`),
      onLost: (err, connected) => done(`lost ${connected ? 'connected' : 'unconnected'}: ${err?.message ?? ''}`),
      onRefused: (why) => done(`refused: ${why.message}`),
    };
    session.request(b.build(), body, listener);
  });
}

async function h2Server(t: TestContext, onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) => void, settings: http2.Settings = {}) {
  const server = http2.createServer({ settings, maxSessionMemory: 100 });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => onStream(stream, headers, Buffer.concat(chunks)));
    stream.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sessions) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as AddressInfo).port, sessions };
}

function session(t: TestContext, port: number, onGone: () => void = () => undefined): H2Session {
  const s = new H2Session('127.0.0.1', port, undefined, onGone);
  t.after(() => s.close());
  return s;
}

test('bodies larger than every window go through both ways (WINDOW_UPDATE given and awaited)', async (t) => {
  const srv = await h2Server(t, (stream, _h, body) => {
    stream.respond({ ':status': 200, 'x-got': String(body.length) });
    stream.end(Buffer.alloc(3 * STREAM_WINDOW, 7)); // 3 MiB down: past our stream window three times
  });
  const s = session(t, srv.port);
  const up = Buffer.alloc(300_000, 1); // past the server's 65,535-octet initial windows
  const heard = await send(s, '/big', up);
  assert.equal(heard.end, 'end');
  assert.equal(heard.headers[0]!['x-got'], String(up.length));
  assert.equal(heard.data.length, 3 * STREAM_WINDOW);
  assert.ok(heard.data.every((b) => b === 7));
});

test('header blocks over one frame go as HEADERS + CONTINUATION both ways; repeated answers decode from the dynamic table', async (t) => {
  const big = 'v'.repeat(40_000);
  const srv = await h2Server(
    t,
    (stream, headers) => {
      stream.respond({ ':status': 200, 'x-echo-len': String((headers['x-big'] as string).length), 'x-big-back': big, 'x-rand': String(headers['x-rand']) });
      stream.end();
    },
    { maxHeaderListSize: 256 * 1024 },
  );
  const s = session(t, srv.port);
  let seed = 1;
  for (let i = 0; i < 30; i++) {
    // Values nghttp2 Huffman-codes and indexes, many enough to push the table past its size.
    let rand = '';
    for (let j = 0; j < 60; j++) rand += String.fromCharCode(32 + ((seed = (seed * 48271) % 2147483647) % 95));
    const heard = await send(s, '/h', Buffer.alloc(0), [['x-big', big], ['x-rand', rand]]);
    assert.equal(heard.end, 'end');
    const h = heard.headers[0]!;
    assert.deepEqual([h[':status'], h['x-echo-len'], (h['x-big-back'] as string).length, h['x-rand']], ['200', '40000', 40_000, rand]);
  }
});

test("the server's SETTINGS_MAX_CONCURRENT_STREAMS holds streams back until others end", async (t) => {
  let open = 0;
  let most = 0;
  const srv = await h2Server(
    t,
    (stream) => {
      most = Math.max(most, ++open);
      setTimeout(() => {
        open--;
        stream.respond({ ':status': 200 }, { endStream: true });
      }, 20);
    },
    { maxConcurrentStreams: 2 },
  );
  const s = session(t, srv.port);
  await send(s, '/warm', Buffer.alloc(0)); // the server's SETTINGS are in
  const all = await Promise.all(Array.from({ length: 7 }, () => send(s, '/c', Buffer.from('x'))));
  assert.ok(all.every((h) => h.end === 'end'));
  assert.equal(most, 2);
});

test('a PING is answered; a GOAWAY refuses the streams the server did not take and ends the session once the rest end', async (t) => {
  let held: http2.ServerHttp2Stream | undefined;
  let second: http2.ServerHttp2Stream | undefined;
  const srv = await h2Server(t, (stream, headers) => {
    if (headers[':path'] === '/held') held = stream;
    else if (headers[':path'] === '/second') second = stream; // held too, then left alone
    else stream.respond({ ':status': 200 }, { endStream: true });
  });
  let gone = 0;
  const s = session(t, srv.port, () => gone++);
  const first = send(s, '/held', Buffer.alloc(0));
  while (!held) await new Promise((r) => setTimeout(r, 5));
  const refused = send(s, '/second', Buffer.alloc(0)); // stream 3: past the last stream the GOAWAY names
  while (!second) await new Promise((r) => setTimeout(r, 5));
  const server = [...srv.sessions][0]!;
  const rtt = await new Promise<number>((resolve, reject) => server.ping((err, ms) => (err ? reject(err) : resolve(ms))));
  assert.ok(rtt >= 0);
  // GOAWAY naming the held stream (1) as the last taken: a stream started after it is refused.
  server.goaway(0, 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.open, false);
  assert.equal(gone, 1);
  assert.match((await refused).end, /^refused: the server went away \(GOAWAY, HTTP\/2 code 0\) before it took the call/);
  await assert.rejects(send(s, '/late', Buffer.alloc(0)), /no more streams/);
  held.respond({ ':status': 200 }, { endStream: true });
  assert.equal((await first).end, 'end');
});

test('a peer that breaks the protocol: GOAWAY(FRAME_SIZE_ERROR) is sent, the socket closed and the stream lost', async (t) => {
  const received: Buffer[] = [];
  let closed!: () => void;
  const socketClosed = new Promise<void>((r) => (closed = r));
  const server = net.createServer((sock) => {
    sock.on('data', (d) => received.push(d));
    sock.on('close', () => closed());
    sock.write(settingsFrame([]));
    // A DATA frame of 20,000 octets: over the 16,384 the client allows.
    const f = Buffer.alloc(9 + 20_000);
    f.writeUIntBE(20_000, 0, 3);
    f[3] = FRAME.DATA;
    f.writeUInt32BE(1, 5);
    setTimeout(() => sock.write(f), 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const s = new H2Session('127.0.0.1', (server.address() as AddressInfo).port, undefined, () => undefined);
  const heard = await send(s, '/x', Buffer.from('x'));
  assert.match(heard.end, /^lost connected: a frame of 20000 octets/);
  await socketClosed;
  const all = Buffer.concat(received);
  // The client's last frame: GOAWAY (type 7) with FRAME_SIZE_ERROR (6).
  const goaway = all.subarray(all.length - 17);
  assert.deepEqual([goaway[3], goaway.readUInt32BE(13)], [FRAME.GOAWAY, 6]);
});

test('a refused connection loses the stream as never connected', async (t) => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const s = session(t, port);
  assert.match((await send(s, '/x', Buffer.alloc(0))).end, /^lost unconnected: .*ECONNREFUSED/);
});

test('an HTTP/1.1 server on the port: the stream is lost with what the server answered', async (t) => {
  const server = http.createServer((_req, res) => res.end('hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const s = session(t, (server.address() as AddressInfo).port);
  assert.match((await send(s, '/x', Buffer.alloc(0))).end, /^lost connected: the server does not speak HTTP\/2 \(it answered "HTTP\/1\.1 400 Bad Request/);
});

test('TLS: a server that does not agree to h2 by ALPN fails the connection before any stream starts', async (t) => {
  const { cert, key } = selfSignedCert();
  const server = tls.createServer({ cert, key }, (sock) => sock.on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const s = new H2Session('localhost', (server.address() as AddressInfo).port, { ca: cert }, () => undefined);
  t.after(() => s.close());
  assert.match((await send(s, '/x', Buffer.alloc(0))).end, /^lost unconnected: localhost:\d+ did not agree to HTTP\/2 \(ALPN: false\)/);
});
