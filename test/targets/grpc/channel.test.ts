/** The gRPC client channel against real HTTP/2 servers: a grpc-js server, and node:http2 servers that misbehave on purpose. */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { CALLS_PER_SESSION, GrpcChannel, MAX_SESSIONS, type CallStatus } from '../../../src/targets/grpc/channel.js';
import { GrpcCode } from '../../../src/targets/grpc/status-codes.js';
import { frameMessage } from '../../../src/targets/grpc/wire.js';
import { closedPort } from '../../helpers/upstream.js';

interface Outcome {
  headers: http2.IncomingHttpHeaders | undefined;
  messages: Buffer[];
  status: CallStatus;
}

function call(channel: GrpcChannel, path = '/t.S/M', message = Buffer.from('req'), metadata: http2.OutgoingHttpHeaders = {}, timeoutMs = 5000) {
  let cancel!: () => void;
  const done = new Promise<Outcome>((resolve) => {
    let headers: http2.IncomingHttpHeaders | undefined;
    const messages: Buffer[] = [];
    const handle = channel.start(path, message, metadata, timeoutMs, {
      onHeaders: (h) => (headers = h),
      onMessage: (m) => messages.push(Buffer.from(m)),
      onEnd: (status) => resolve({ headers, messages, status }),
    });
    cancel = () => handle.cancel();
  });
  return { done, cancel: () => cancel() };
}

interface RawServer {
  port: number;
  streams: Array<{ headers: http2.IncomingHttpHeaders; body: Buffer; closed: Promise<number> }>;
  sessions: number;
}

/** A plain node:http2 server; `answer` writes whatever response the test needs. */
async function rawServer(t: TestContext, answer: (stream: http2.ServerHttp2Stream, body: Buffer) => void): Promise<RawServer> {
  const server = http2.createServer();
  const state: RawServer = { port: 0, streams: [], sessions: 0 };
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    state.sessions++;
    open.add(s);
    s.once('close', () => open.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    const closed = new Promise<number>((r) => stream.once('close', () => r(stream.rstCode)));
    const entry = { headers, body: Buffer.alloc(0), closed };
    state.streams.push(entry);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      entry.body = Buffer.concat(chunks);
      if (!stream.destroyed) answer(stream, entry.body);
    });
    stream.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  t.after(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return state;
}

function channelTo(t: TestContext, port: number): GrpcChannel {
  const ch = new GrpcChannel(`127.0.0.1:${port}`, undefined);
  t.after(() => ch.close());
  return ch;
}

const okHead = { ':status': 200, 'content-type': 'application/grpc' };

test('a call sends a gRPC request (path, content-type, te, grpc-timeout, metadata, framed body) and reads message, headers and trailers', async (t) => {
  const srv = await rawServer(t, (stream, body) => {
    stream.respond({ ...okHead, 'x-head': 'h1' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-trail': 't1' }));
    stream.end(frameMessage(Buffer.concat([Buffer.from('echo:'), body.subarray(5)])));
  });
  const out = await call(channelTo(t, srv.port), '/pkg.Svc/Get', Buffer.from('hello'), { 'x-request-id': 'r1', 'x-multi': ['a', 'b'] }, 2500).done;
  assert.equal(out.status.code, GrpcCode.OK);
  assert.equal(out.status.metadata['x-trail'], 't1');
  assert.equal(out.headers?.['x-head'], 'h1');
  assert.deepEqual(out.messages.map(String), ['echo:hello']);
  const seen = srv.streams[0]!;
  assert.equal(seen.headers[':method'], 'POST');
  assert.equal(seen.headers[':path'], '/pkg.Svc/Get');
  assert.equal(seen.headers['content-type'], 'application/grpc');
  assert.equal(seen.headers.te, 'trailers');
  assert.equal(seen.headers['grpc-timeout'], '2500m');
  assert.equal(seen.headers['x-request-id'], 'r1');
  assert.equal(seen.headers['x-multi'], 'a, b');
  assert.deepEqual(seen.body, frameMessage(Buffer.from('hello')));
});

test('calls share one connection; after the server sends GOAWAY the next call opens a new one', async (t) => {
  let goaway = false;
  const srv = await rawServer(t, (stream) => {
    stream.respond({ ...okHead, 'grpc-status': '0' }, { endStream: true });
    if (goaway) stream.session?.goaway();
  });
  const ch = channelTo(t, srv.port);
  await Promise.all([call(ch).done, call(ch).done, call(ch).done]);
  assert.equal(srv.sessions, 1);
  goaway = true;
  assert.equal((await call(ch).done).status.code, GrpcCode.OK);
  await new Promise((r) => setTimeout(r, 50));
  goaway = false;
  assert.equal((await call(ch).done).status.code, GrpcCode.OK);
  assert.equal(srv.sessions, 2);
});

test('a call the server refused with GOAWAY (past its last stream) starts again on a new connection and succeeds', async (t) => {
  const held: http2.ServerHttp2Stream[] = [];
  const srv = await rawServer(t, (stream) => {
    if (srv.sessions === 1) held.push(stream);
    else stream.respond({ ...okHead, 'grpc-status': '0' }, { endStream: true });
  });
  const ch = channelTo(t, srv.port);
  const first = call(ch); // stream 1
  const second = call(ch); // stream 3
  while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
  // The server will finish stream 1 only: stream 3 was never its to process.
  held[0]!.session!.goaway(0, 1);
  assert.equal((await second.done).status.code, GrpcCode.OK);
  assert.equal(srv.sessions, 2);
  held[0]!.respond({ ...okHead, 'grpc-status': '0' }, { endStream: true });
  assert.equal((await first.done).status.code, GrpcCode.OK);
});

test('one call at a time keeps one connection; many in flight spread over up to MAX_SESSIONS connections', async (t) => {
  const held: http2.ServerHttp2Stream[] = [];
  let hold = false;
  const answer = (stream: http2.ServerHttp2Stream) => stream.respond({ ...okHead, 'grpc-status': '0' }, { endStream: true });
  const srv = await rawServer(t, (stream) => (hold ? held.push(stream) : answer(stream)));
  const ch = channelTo(t, srv.port);
  for (let i = 0; i < 5; i++) assert.equal((await call(ch).done).status.code, GrpcCode.OK);
  assert.deepEqual([srv.sessions, ch.sessionCount], [1, 1]);

  hold = true;
  const many = CALLS_PER_SESSION * MAX_SESSIONS + 10;
  const calls = Array.from({ length: many }, () => call(ch).done);
  while (held.length < many) await new Promise((r) => setTimeout(r, 5));
  assert.equal(ch.sessionCount, MAX_SESSIONS);
  assert.equal(srv.sessions, MAX_SESSIONS);
  for (const stream of held) answer(stream);
  assert.ok((await Promise.all(calls)).every((o) => o.status.code === GrpcCode.OK));
});

test('a trailers-only answer: the status and percent-decoded message come from the headers', async (t) => {
  const srv = await rawServer(t, (stream) => {
    stream.respond({ ...okHead, 'grpc-status': '5', 'grpc-message': 'no%20such%20item', 'x-why': 'gone' }, { endStream: true });
  });
  const out = await call(channelTo(t, srv.port)).done;
  assert.deepEqual([out.status.code, out.status.details, out.status.metadata['x-why']], [GrpcCode.NOT_FOUND, 'no such item', 'gone']);
  assert.equal(out.messages.length, 0);
});

test('answers without a grpc-status: HTTP errors, other content types, resets and bare ends get the statuses gRPC clients give them', async (t) => {
  const cases: Array<[string, (s: http2.ServerHttp2Stream) => void, number, RegExp]> = [
    ['HTTP 503', (s) => s.respond({ ':status': 503 }, { endStream: true }), GrpcCode.UNAVAILABLE, /HTTP status code 503/],
    ['HTTP 404', (s) => s.respond({ ':status': 404 }, { endStream: true }), GrpcCode.UNIMPLEMENTED, /HTTP status code 404/],
    ['text/html', (s) => {
        s.respond({ ':status': 200, 'content-type': 'text/html' });
        s.end('<html>');
      }, GrpcCode.UNKNOWN, /content-type "text\/html"/],
    ['REFUSED_STREAM', (s) => s.close(http2.constants.NGHTTP2_REFUSED_STREAM), GrpcCode.UNAVAILABLE, /reset by the server \(HTTP\/2 code 7\)/],
    ['ENHANCE_YOUR_CALM', (s) => s.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM), GrpcCode.RESOURCE_EXHAUSTED, /code 11/],
    ['no trailers', (s) => {
        s.respond(okHead);
        s.end(frameMessage(Buffer.from('x')));
      }, GrpcCode.INTERNAL, /without a grpc-status/],
    [
      'truncated message',
      (s) => {
        s.respond(okHead, { waitForTrailers: true });
        s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
        s.end(frameMessage(Buffer.from('whole message')).subarray(0, 9));
      },
      GrpcCode.INTERNAL,
      /middle of a message/,
    ],
  ];
  for (const [name, answer, code, details] of cases) {
    const srv = await rawServer(t, answer);
    const out = await call(channelTo(t, srv.port)).done;
    assert.equal(out.status.code, code, `${name}: ${out.status.details}`);
    assert.match(out.status.details, details, name);
  }
});

test('a message over 4 MiB ends the call RESOURCE_EXHAUSTED and resets the stream; a gzip message is decompressed', async (t) => {
  const big = await rawServer(t, (stream) => {
    stream.respond(okHead);
    const head = Buffer.alloc(5);
    head.writeUInt32BE(5 * 1024 * 1024, 1);
    stream.write(head);
  });
  const out = await call(channelTo(t, big.port)).done;
  assert.equal(out.status.code, GrpcCode.RESOURCE_EXHAUSTED);
  assert.equal(await big.streams[0]!.closed, http2.constants.NGHTTP2_CANCEL);

  const zipped = await rawServer(t, (stream) => {
    stream.respond({ ...okHead, 'grpc-encoding': 'gzip' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    const z = gzipSync(Buffer.from('small and zipped'));
    const head = Buffer.from([1, 0, 0, 0, 0]);
    head.writeUInt32BE(z.length, 1);
    stream.end(Buffer.concat([head, z]));
  });
  const unzipped = await call(channelTo(t, zipped.port)).done;
  assert.equal(unzipped.status.code, GrpcCode.OK, unzipped.status.details);
  assert.deepEqual(unzipped.messages.map(String), ['small and zipped']);
});

test('the deadline ends a call DEADLINE_EXCEEDED and cancel() CANCELLED; either way the server sees the stream reset', async (t) => {
  const srv = await rawServer(t, (stream) => stream.respond(okHead)); // answers headers, then nothing
  const ch = channelTo(t, srv.port);
  const late = await call(ch, '/t.S/M', Buffer.from('x'), {}, 100).done;
  assert.equal(late.status.code, GrpcCode.DEADLINE_EXCEEDED);
  assert.equal(await srv.streams[0]!.closed, http2.constants.NGHTTP2_CANCEL);

  const c = call(ch);
  while (srv.streams.length < 2) await new Promise((r) => setTimeout(r, 5));
  c.cancel();
  assert.equal((await c.done).status.code, GrpcCode.CANCELLED);
  assert.equal(await srv.streams[1]!.closed, http2.constants.NGHTTP2_CANCEL);
});

test('a refused connection is UNAVAILABLE "No connection established"; a dropped one UNAVAILABLE too, and the next call reconnects', async (t) => {
  const port = await closedPort();
  const refused = await call(channelTo(t, port)).done;
  assert.equal(refused.status.code, GrpcCode.UNAVAILABLE);
  assert.match(refused.status.details, new RegExp(`^No connection established to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));

  let drop = true;
  const srv = await rawServer(t, (stream) => {
    if (drop) stream.session?.destroy();
    else stream.respond({ ...okHead, 'grpc-status': '0' }, { endStream: true });
  });
  const ch = channelTo(t, srv.port);
  const dropped = await call(ch).done;
  assert.equal(dropped.status.code, GrpcCode.UNAVAILABLE, dropped.status.details);
  drop = false;
  assert.equal((await call(ch).done).status.code, GrpcCode.OK);
});

test('against a grpc-js server: unary and server-streaming calls, statuses with messages, metadata both ways', async (t) => {
  const server = new grpc.Server();
  const id = (b: Buffer) => b;
  server.register(
    '/t.Echo/Unary',
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-seen', String(call.metadata.get('x-in')[0]));
      call.sendMetadata(md);
      if (call.request.toString() === 'fail') cb({ code: grpc.status.FAILED_PRECONDITION, details: 'not now: ü' });
      else cb(null, Buffer.concat([Buffer.from('u:'), call.request]));
    },
    id,
    id,
    'unary',
  );
  server.register(
    '/t.Echo/Stream',
    (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      for (let i = 0; i < 3; i++) call.write(Buffer.from(`m${i}`));
      call.end();
    },
    id,
    id,
    'serverStream',
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.after(() => server.forceShutdown());
  const ch = channelTo(t, port);
  const ok = await call(ch, '/t.Echo/Unary', Buffer.from('hi'), { 'x-in': 'v1' }).done;
  assert.equal(ok.status.code, GrpcCode.OK);
  assert.deepEqual(ok.messages.map(String), ['u:hi']);
  assert.equal(ok.headers?.['x-seen'], 'v1');
  const failed = await call(ch, '/t.Echo/Unary', Buffer.from('fail')).done;
  assert.deepEqual([failed.status.code, failed.status.details], [GrpcCode.FAILED_PRECONDITION, 'not now: ü']);
  const streamed = await call(ch, '/t.Echo/Stream').done;
  assert.equal(streamed.status.code, GrpcCode.OK);
  assert.deepEqual(streamed.messages.map(String), ['m0', 'm1', 'm2']);
  const missing = await call(ch, '/t.Echo/Nope').done;
  assert.equal(missing.status.code, GrpcCode.UNIMPLEMENTED);
});
