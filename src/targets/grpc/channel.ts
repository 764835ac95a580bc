/**
 * A gRPC client channel to one target on Node's own HTTP/2 client: one session (connection),
 * made on first use and again after it closes or is told to go away, carrying every call as a
 * stream. It does what the gateway's REST -> gRPC calls need (a unary or server-streaming call
 * of already-encoded bytes, a deadline, cancellation, metadata both ways) at about half the
 * CPU per call of a grpc-js client (bench/README.md, "REST->gRPC"), and loads nothing but
 * node:http2.
 */
import http2 from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { GrpcCode } from './status-codes.js';
import {
  decodeGrpcMessage,
  frameMessage,
  grpcCodeOfHttpStatus,
  grpcCodeOfRstCode,
  grpcTimeout,
  MAX_RECEIVE_BYTES,
  MessageReader,
  parseGrpcStatus,
  WireError,
} from './wire.js';

const { NGHTTP2_CANCEL } = http2.constants;
const USER_AGENT = 'gatehouse-grpc';
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The status a call ended with; `metadata` holds the trailers (or the headers of a trailers-only answer). */
export interface CallStatus {
  readonly code: number;
  readonly details: string;
  readonly metadata: IncomingHttpHeaders;
}

/** A call that ended with a status other than OK, as grpc-js's ServiceError has it. */
export class GrpcCallError extends Error {
  readonly code: number;
  readonly details: string;
  readonly metadata: IncomingHttpHeaders;

  constructor(status: CallStatus) {
    super(`${status.code} ${status.details}`);
    this.code = status.code;
    this.details = status.details;
    this.metadata = status.metadata;
  }
}

export interface CallListener {
  /** The response headers (before the first message). */
  onHeaders?(headers: IncomingHttpHeaders): void;
  onMessage(message: Buffer): void;
  /** Called once, last: the status from the trailers, or the one the channel gives a call that failed. */
  onEnd(status: CallStatus): void;
}

export interface ChannelTls {
  readonly ca?: string;
  readonly key?: string;
  readonly cert?: string;
  readonly servername?: string;
}

const NO_METADATA: IncomingHttpHeaders = Object.freeze({});

interface SessionState {
  readonly session: http2.ClientHttp2Session;
  connected: boolean;
}

/** One call: a stream on the channel's session, ended once with a status. */
class ClientCall {
  private ended = false;
  private headers: IncomingHttpHeaders | undefined;
  private trailers: IncomingHttpHeaders | undefined;
  private failure: CallStatus | undefined;
  private readonly reader: MessageReader;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stream: http2.ClientHttp2Stream,
    private readonly state: SessionState,
    private readonly address: string,
    timeoutMs: number,
    private readonly listener: CallListener,
  ) {
    this.reader = new MessageReader(MAX_RECEIVE_BYTES, () => this.headers?.['grpc-encoding'] as string | undefined);
    // Whole milliseconds: Node keeps one timer list per distinct duration, and the time left of
    // each request is fractional. setTimeout takes at most 2^31-1 ms (~24.8 days); a longer
    // deadline is left to the server (grpc-timeout).
    this.timer = setTimeout(() => this.fail(GrpcCode.DEADLINE_EXCEEDED, 'Deadline exceeded'), Math.min(Math.ceil(timeoutMs), MAX_TIMER_MS));
    stream.on('response', (h) => this.onResponse(h));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('trailers', (t) => {
      this.trailers = t;
    });
    stream.on('error', (err) => this.onError(err));
    stream.on('close', () => this.onClose());
  }

  /** Ends the call with CANCELLED and resets its stream (the server sees the call cancelled). */
  cancel(): void {
    this.fail(GrpcCode.CANCELLED, 'Cancelled on client');
  }

  private onResponse(headers: IncomingHttpHeaders): void {
    this.headers = headers;
    if (headers['grpc-status'] !== undefined) return; // trailers-only: the status is in these headers
    const status = Number(headers[':status']);
    if (status !== 200) return this.fail(grpcCodeOfHttpStatus(status), `Received HTTP status code ${status}`, headers);
    const type = headers['content-type'];
    if (typeof type !== 'string' || !type.startsWith('application/grpc')) {
      return this.fail(GrpcCode.UNKNOWN, `Received a response with content-type "${type ?? ''}", not application/grpc`, headers);
    }
    this.listener.onHeaders?.(headers);
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    try {
      this.reader.push(chunk, (m) => {
        if (!this.ended) this.listener.onMessage(m);
      });
    } catch (err) {
      this.fail(err instanceof WireError ? err.code : GrpcCode.INTERNAL, (err as Error).message);
    }
  }

  private onError(err: Error & { code?: string }): void {
    // A stream reset by the server comes as an error too; its RST code says more (onClose).
    if (err.code === 'ERR_HTTP2_STREAM_ERROR') return;
    const details = this.state.connected
      ? `Connection to ${this.address} failed: ${err.message}`
      : `No connection established to ${this.address}: ${err.message}`;
    this.failure ??= { code: GrpcCode.UNAVAILABLE, details, metadata: NO_METADATA };
  }

  private onClose(): void {
    if (this.ended) return;
    const t = this.trailers ?? (this.headers?.['grpc-status'] !== undefined ? this.headers : undefined);
    const code = parseGrpcStatus(t?.['grpc-status']);
    if (t && code !== undefined) {
      if (code === GrpcCode.OK && this.reader.truncated) return this.end({ code: GrpcCode.INTERNAL, details: 'The stream ended in the middle of a message', metadata: t });
      return this.end({ code, details: decodeGrpcMessage(t['grpc-message']), metadata: t });
    }
    if (this.failure) return this.end(this.failure);
    const session = this.state.session;
    if (session.destroyed) return this.end({ code: GrpcCode.UNAVAILABLE, details: `The connection to ${this.address} closed before the call ended`, metadata: NO_METADATA });
    const rst = this.stream.rstCode;
    if (rst !== undefined && rst !== 0) return this.end({ code: grpcCodeOfRstCode(rst), details: `Stream reset by the server (HTTP/2 code ${rst})`, metadata: NO_METADATA });
    this.end({ code: GrpcCode.INTERNAL, details: 'The server closed the stream without a grpc-status', metadata: this.headers ?? NO_METADATA });
  }

  /** Ends the call now with `code` and resets the stream if it is still open. */
  private fail(code: number, details: string, metadata: IncomingHttpHeaders = NO_METADATA): void {
    if (this.ended) return;
    this.end({ code, details, metadata });
    if (!this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
  }

  private end(status: CallStatus): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.listener.onEnd(status);
  }
}

export interface CallHandle {
  cancel(): void;
}

export class GrpcChannel {
  private current: SessionState | undefined;
  private closed = false;
  private readonly authority: string;
  private readonly options: http2.SecureClientSessionOptions;

  /**
   * @param url the target: `grpc://` or `http://` is plaintext (h2c), `grpcs://` or `https://` TLS.
   */
  constructor(
    url: string,
    tls: ChannelTls | undefined,
    /** host:port, for error details. */
    readonly address: string,
  ) {
    const secure = url.startsWith('https:') || url.startsWith('grpcs:');
    this.authority = `${secure ? 'https' : 'http'}://${address}`;
    this.options = secure ? { ca: tls?.ca, key: tls?.key, cert: tls?.cert, servername: tls?.servername, ALPNProtocols: ['h2'] } : {};
  }

  /** Starts a call of `path` ("/pkg.Service/Method") with one request message (already encoded). */
  start(path: string, message: Buffer, metadata: OutgoingHttpHeaders, timeoutMs: number, listener: CallListener): CallHandle {
    const headers: OutgoingHttpHeaders = {
      ...metadata,
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': grpcTimeout(timeoutMs),
      'grpc-accept-encoding': 'identity',
      'user-agent': USER_AGENT,
    };
    let state: SessionState;
    let stream: http2.ClientHttp2Stream;
    try {
      state = this.session();
      stream = state.session.request(headers, { endStream: false });
    } catch (err) {
      // The session went away between calls (GOAWAY, out of stream ids): the next one is new.
      this.drop(this.current);
      try {
        state = this.session();
        stream = state.session.request(headers, { endStream: false });
      } catch (again) {
        const details = `The call could not be started: ${(again as Error).message}`;
        queueMicrotask(() => listener.onEnd({ code: GrpcCode.INTERNAL, details, metadata: NO_METADATA }));
        return { cancel: () => undefined };
      }
    }
    const call = new ClientCall(stream, state, this.address, timeoutMs, listener);
    stream.end(frameMessage(message));
    return call;
  }

  /** Closes the session: calls in flight finish, new ones would open another (the target is closing, so none come). */
  close(): void {
    this.closed = true;
    const s = this.current;
    this.current = undefined;
    s?.session.close();
  }

  private session(): SessionState {
    if (this.current && !this.current.session.destroyed && !this.current.session.closed) return this.current;
    if (this.closed) throw new Error(`the channel to ${this.address} is closed`);
    const session = http2.connect(this.authority, this.options);
    const state: SessionState = { session, connected: false };
    // Errors reach the calls on this session (their streams are destroyed with it); the next call connects again.
    session.on('error', () => this.drop(state));
    session.once('connect', () => {
      state.connected = true;
    });
    session.once('goaway', () => this.drop(state));
    session.once('close', () => this.drop(state));
    this.current = state;
    return state;
  }

  private drop(state: SessionState | undefined): void {
    if (state && this.current === state) this.current = undefined;
  }
}
