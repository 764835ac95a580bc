/**
 * A gRPC client channel to one target on Node's own HTTP/2 client: a session (connection)
 * made on first use, up to MAX_SESSIONS under load, each made again after it closes or is told
 * to go away, carrying the calls as streams. It does what the gateway's REST -> gRPC calls need
 * (a unary or server-streaming call of already-encoded bytes, a deadline, cancellation,
 * metadata both ways) at about half the CPU per call of a grpc-js client (bench/README.md,
 * "REST->gRPC"), and loads nothing but node:http2.
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
  /** Calls started on it and not yet ended. */
  active: number;
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
    this.state.active--;
    clearTimeout(this.timer);
    this.listener.onEnd(status);
  }
}

export interface CallHandle {
  cancel(): void;
}

/**
 * Sessions per target, and the calls in flight on each before another is opened. One HTTP/2
 * connection makes the gateway and the server take turns: the server answers a batch of calls,
 * then waits while the gateway reads them. A few connections let them overlap: on the bench's
 * gRPC row 4 round-robin sessions served 25-40% more calls per second than 1 on a slow stretch
 * of the machine, 2-14% on a fast one (2: about half of that; 8: the same as 4). A target with
 * fewer calls in flight keeps one connection.
 */
export const MAX_SESSIONS = 4;
export const CALLS_PER_SESSION = 8;

export class GrpcChannel {
  private readonly sessions: SessionState[] = [];
  private closed = false;
  private readonly authority: string;
  private readonly options: http2.SecureClientSessionOptions;

  /**
   * @param address host:port of the target (also in error details).
   * @param tls set for a TLS target (`grpcs://`, `https://`: client.ts isTlsTarget), its CA and client certificate if any; undefined for h2c.
   */
  constructor(
    readonly address: string,
    tls: ChannelTls | undefined,
  ) {
    const secure = tls !== undefined;
    this.authority = `${secure ? 'https' : 'http'}://${address}`;
    this.options = secure ? { ca: tls?.ca, key: tls?.key, cert: tls?.cert, servername: tls?.servername, ALPNProtocols: ['h2'] } : {};
  }

  /** Open sessions (connections), for tests and diagnostics. */
  get sessionCount(): number {
    return this.sessions.length;
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
    let state: SessionState | undefined;
    let stream: http2.ClientHttp2Stream;
    try {
      state = this.session();
      stream = state.session.request(headers, { endStream: false });
    } catch {
      // The session went away between calls (GOAWAY, out of stream ids): it takes no more
      // calls (those in flight finish), and this one goes to another.
      if (state) {
        this.drop(state);
        state.session.close();
      }
      try {
        state = this.session();
        stream = state.session.request(headers, { endStream: false });
      } catch (again) {
        const details = `The call could not be started: ${(again as Error).message}`;
        queueMicrotask(() => listener.onEnd({ code: GrpcCode.INTERNAL, details, metadata: NO_METADATA }));
        return { cancel: () => undefined };
      }
    }
    state.active++;
    const call = new ClientCall(stream, state, this.address, timeoutMs, listener);
    stream.end(frameMessage(message));
    return call;
  }

  /** Closes the sessions: calls in flight finish, new ones would open another (the target is closing, so none come). */
  close(): void {
    this.closed = true;
    for (const s of this.sessions.splice(0)) s.session.close();
  }

  /** The open session with the fewest calls in flight; a new one when every session is busy and there is room. */
  private session(): SessionState {
    let best: SessionState | undefined;
    for (let i = this.sessions.length - 1; i >= 0; i--) {
      const s = this.sessions[i]!;
      if (s.session.destroyed || s.session.closed) this.sessions.splice(i, 1);
      else if (!best || s.active < best.active) best = s;
    }
    if (best && (best.active < CALLS_PER_SESSION || this.sessions.length >= MAX_SESSIONS)) return best;
    if (this.closed) throw new Error(`the channel to ${this.address} is closed`);
    const session = http2.connect(this.authority, this.options);
    const state: SessionState = { session, connected: false, active: 0 };
    // Errors reach the calls on this session (their streams are destroyed with it); the next call connects again.
    session.on('error', () => this.drop(state));
    session.once('connect', () => {
      state.connected = true;
    });
    session.once('goaway', () => this.drop(state));
    session.once('close', () => this.drop(state));
    this.sessions.push(state);
    return state;
  }

  private drop(state: SessionState): void {
    const i = this.sessions.indexOf(state);
    if (i !== -1) this.sessions.splice(i, 1);
  }
}
