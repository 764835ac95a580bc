/**
 * The HTTP/2 front door (`server.http2: true`): HTTP/2 over TLS with ALPN (HTTP/1.1 clients
 * still served on the same port), or cleartext h2c with prior knowledge. It maps the
 * gateway's HTTP/1.1 timeouts onto sessions and streams and drains with GOAWAY.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { requestIdOf } from './request-head.js';
import { problemBody, ERRORS, PROBLEM_CONTENT_TYPE } from './errors.js';

export type ServerRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type ServerResponse = http.ServerResponse | http2.Http2ServerResponse;
export type RequestHandler = (req: ServerRequest, res: ServerResponse) => void;

export interface Http2ListenerOptions {
  tls?: { cert: string; key: string };
  timeouts: { request: number; headers: number; keepAlive: number };
  /** Header fields per request (pseudo-headers not counted); app.ts answers 431 above its own limit. */
  maxHeaderPairs: number;
  /** HTTP/1.1 on the TLS port: the http.Server options the plain listener would get. */
  http1: Pick<http.ServerOptions, 'requestTimeout' | 'headersTimeout' | 'keepAliveTimeout' | 'connectionsCheckingInterval' | 'maxHeaderSize'>;
  /** HTTP/1.1 parse errors on the TLS port (the same handler the plain listener uses). */
  onClientError: (err: NodeJS.ErrnoException, socket: Socket) => void;
  /** Session-level failures (a bad preface, a protocol error): logged, never thrown. */
  onSessionError: (err: Error) => void;
}

export interface Http2Listener {
  readonly server: http2.Http2Server | http2.Http2SecureServer;
  /** Stops new work: GOAWAY to every session (open streams finish), idle HTTP/1.1 connections close. */
  drain(): void;
  /** Closes whatever is still open (the shutdown grace is over). */
  destroyAll(): void;
}

/**
 * An HTTP/2 request body whose length the client did not announce is what HTTP/1.1 calls
 * chunked: marking it so lets the body limit, the proxy and Fastify's parser treat both alike.
 * (An HTTP/2 client may not send Transfer-Encoding itself: Node refuses such a stream.)
 */
function markUnsizedBody(req: http2.Http2ServerRequest): void {
  if (!req.stream.endAfterHeaders && req.headers['content-length'] === undefined) req.headers['transfer-encoding'] = 'chunked';
}

/**
 * Node ends an HTTP/2 request body normally when its stream closes before the client's
 * END_STREAM (the client went away or reset the stream mid-body, or the 408 below closed it):
 * the upstream would take a truncated body for a whole one. Here such a body fails instead,
 * as a cut HTTP/1.1 body does.
 */
function failCutBody(req: http2.Http2ServerRequest): void {
  if (req.stream.endAfterHeaders) return;
  const stream = req.stream;
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    // The end of a whole body arrives while the stream is still open (it stays open for the response).
    if (chunk !== null || !stream.closed) return push(chunk, encoding);
    req.on('error', () => undefined); // whoever reads the body sees the error; nobody reading is fine too
    req.destroy(Object.assign(new Error('the stream closed before the request body ended'), { code: 'ECONNRESET' }));
    return false;
  };
}

/**
 * Node detaches an HTTP/2 request from its socket when the stream closes, but the access log
 * (Fastify's request.ip) reads the peer address after that: the closed stream keeps its peer.
 */
function keepPeer(req: http2.Http2ServerRequest): void {
  const live = req.socket;
  const { remoteAddress, remotePort, remoteFamily, localAddress, localPort } = live;
  const peer = { remoteAddress, remotePort, remoteFamily, localAddress, localPort, encrypted: (live as { encrypted?: boolean }).encrypted === true, destroy() {} };
  Object.defineProperty(req, 'socket', { configurable: true, get: () => (req.stream.closed || req.stream.destroyed ? peer : live) });
}

/** The 408 a stream gets when its request (headers and body) has not fully arrived within timeouts.request. */
function requestTimedOut(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
  if (res.headersSent || res.stream.destroyed) {
    req.stream.close(http2.constants.NGHTTP2_CANCEL);
    return;
  }
  const id = requestIdOf(req);
  const body = JSON.stringify(problemBody('REQUEST_TIMEOUT', id, 'the request did not arrive in time'));
  res.writeHead(ERRORS.REQUEST_TIMEOUT.status, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'x-request-id': id });
  res.end(body, () => req.stream.close(http2.constants.NGHTTP2_NO_ERROR));
}

export function createHttp2Listener(options: Http2ListenerOptions, handler: RequestHandler): Http2Listener {
  const { timeouts, tls } = options;
  const h2Options: http2.ServerOptions = {
    // Pseudo-headers count against Node's limit; app.ts counts the rest and answers 431.
    maxHeaderListPairs: options.maxHeaderPairs * 2 + 8,
  };
  const onRequest = (req: ServerRequest, res: ServerResponse): void => {
    if (req instanceof http2.Http2ServerRequest && res instanceof http2.Http2ServerResponse) {
      markUnsizedBody(req);
      failCutBody(req);
      keepPeer(req);
      if (timeouts.request > 0 && !req.stream.endAfterHeaders) {
        const timer = setTimeout(() => requestTimedOut(req, res), timeouts.request);
        const clear = () => clearTimeout(timer);
        req.once('end', clear);
        res.once('finish', clear);
        res.once('close', clear);
      }
    }
    handler(req, res);
  };
  const server = tls
    ? http2.createSecureServer({ ...h2Options, cert: tls.cert, key: tls.key, allowHTTP1: true, handshakeTimeout: timeouts.headers || undefined }, onRequest)
    : http2.createServer(h2Options, onRequest);

  if (tls) {
    // HTTP/1.1 clients on the TLS port go through Node's HTTP/1.1 parser with the same limits as without http2.
    const h1 = options.http1;
    Object.assign(server, {
      requestTimeout: h1.requestTimeout,
      headersTimeout: h1.headersTimeout,
      keepAliveTimeout: h1.keepAliveTimeout,
      connectionsCheckingInterval: h1.connectionsCheckingInterval,
      maxHeaderSize: h1.maxHeaderSize,
    });
    server.on('clientError', options.onClientError);
  }

  const sockets = new Set<Socket>();
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const sessions = new Set<http2.ServerHttp2Session>();
  let draining = false;
  server.on('session', (session: http2.ServerHttp2Session) => {
    if (draining) return void session.close();
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // timeouts.headers: a new connection must open its first stream in time (HTTP/1.1: its first request's headers).
    let first: NodeJS.Timeout | undefined;
    if (timeouts.headers > 0) {
      first = setTimeout(() => session.destroy(), timeouts.headers);
      first.unref();
      session.once('stream', () => clearTimeout(first));
      session.once('close', () => clearTimeout(first));
    }
    // timeouts.keepAlive: a session with no frames for that long is closed (GOAWAY; open streams may still finish).
    if (timeouts.keepAlive > 0) session.setTimeout(timeouts.keepAlive, () => session.close());
  });
  server.on('sessionError', (err: Error) => options.onSessionError(err));

  return {
    server,
    drain() {
      draining = true;
      for (const s of sessions) s.close();
      const closeIdle = (server as { closeIdleConnections?: () => void }).closeIdleConnections;
      closeIdle?.call(server);
    },
    destroyAll() {
      for (const s of sessions) s.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}
