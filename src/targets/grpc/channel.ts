/**
 * A gRPC client channel to one target on the gateway's own HTTP/2 client (./h2/session.ts): a
 * session (connection) made on first use, up to MAX_SESSIONS under load, each made again after
 * it closes or is told to go away, carrying the calls as streams. It does what the gateway's
 * REST -> gRPC calls need (a unary or server-streaming call of already-encoded bytes, a
 * deadline, cancellation, metadata both ways). Per call it costs a fraction of node:http2's
 * client, itself about half of a grpc-js client's (bench/README.md, "REST->gRPC").
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { GrpcCode } from './status-codes.js';
import { H2_CODE } from './h2/errors.js';
import { HeaderBlockBuilder, indexedField, STATIC_FIELD, STATIC_NAME } from './h2/hpack.js';
import { H2Session, type H2Stream, type SessionTls, type StreamListener } from './h2/session.js';
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

/** A TLS target's CA, client certificate and server name, as the session connects with them. */
export type ChannelTls = SessionTls;

const NO_METADATA: IncomingHttpHeaders = Object.freeze({});

interface SessionState {
  readonly session: H2Session;
  /** Calls started on it and not yet ended. */
  active: number;
}

/** One call: a stream on one of the channel's sessions, ended once with a status. */
class ClientCall implements StreamListener {
  private ended = false;
  private headers: IncomingHttpHeaders | undefined;
  private trailers: IncomingHttpHeaders | undefined;
  private readonly reader: MessageReader;
  private readonly timer: NodeJS.Timeout;
  /** Set once the stream is started (start() may fail first). */
  stream: H2Stream | undefined;
  /** Started again once already after the server refused it. */
  private restarted = false;

  constructor(
    /** The session the call's stream is on. */
    public state: SessionState,
    private readonly address: string,
    timeoutMs: number,
    private readonly listener: CallListener,
    /** The request's header block and framed message, kept to start it again if the server refuses the stream. */
    readonly block: Buffer,
    readonly body: Buffer,
    /** Starts the call again on another session; false when there is none to take it. */
    private readonly restart: (call: ClientCall) => boolean,
  ) {
    this.reader = new MessageReader(MAX_RECEIVE_BYTES, () => this.headers?.['grpc-encoding'] as string | undefined);
    // Whole milliseconds: Node keeps one timer list per distinct duration, and the time left of
    // each request is fractional. setTimeout takes at most 2^31-1 ms (~24.8 days); a longer
    // deadline is left to the server (grpc-timeout).
    this.timer = setTimeout(() => this.fail(GrpcCode.DEADLINE_EXCEEDED, 'Deadline exceeded'), Math.min(Math.ceil(timeoutMs), MAX_TIMER_MS));
  }

  /** Ends the call with CANCELLED and resets its stream (the server sees the call cancelled). */
  cancel(): void {
    this.fail(GrpcCode.CANCELLED, 'Cancelled on client');
  }

  onHeaders(headers: IncomingHttpHeaders, endStream: boolean): void {
    if (this.headers !== undefined) {
      this.trailers = headers;
      return;
    }
    this.headers = headers;
    // Trailers-only: the status is in these headers (onEnd reads it).
    if (headers['grpc-status'] !== undefined && endStream) return;
    const status = Number(headers[':status']);
    if (status !== 200) return this.fail(grpcCodeOfHttpStatus(status), `Received HTTP status code ${status}`, headers);
    const type = headers['content-type'];
    if (typeof type !== 'string' || !type.startsWith('application/grpc')) {
      return this.fail(GrpcCode.UNKNOWN, `Received a response with content-type "${type ?? ''}", not application/grpc`, headers);
    }
    this.listener.onHeaders?.(headers);
  }

  onData(chunk: Buffer): void {
    if (this.ended) return;
    try {
      this.reader.push(chunk, (m) => {
        if (!this.ended) this.listener.onMessage(m);
      });
    } catch (err) {
      this.fail(err instanceof WireError ? err.code : GrpcCode.INTERNAL, (err as Error).message);
    }
  }

  onEnd(): void {
    if (this.ended) return;
    const t = this.trailers ?? (this.headers?.['grpc-status'] !== undefined ? this.headers : undefined);
    const code = parseGrpcStatus(t?.['grpc-status']);
    if (t && code !== undefined) {
      if (code === GrpcCode.OK && this.reader.truncated) return this.end({ code: GrpcCode.INTERNAL, details: 'The stream ended in the middle of a message', metadata: t });
      return this.end({ code, details: decodeGrpcMessage(t['grpc-message']), metadata: t });
    }
    this.end({ code: GrpcCode.INTERNAL, details: 'The server closed the stream without a grpc-status', metadata: this.headers ?? NO_METADATA });
  }

  onReset(code: number): void {
    if (this.ended) return;
    this.end({ code: grpcCodeOfRstCode(code), details: `Stream reset by the server (HTTP/2 code ${code})`, metadata: NO_METADATA });
  }

  onLost(error: Error | undefined, connected: boolean): void {
    if (this.ended) return;
    let details: string;
    if (!connected) details = `No connection established to ${this.address}: ${error?.message ?? 'the connection closed'}`;
    else if (error) details = `Connection to ${this.address} failed: ${error.message}`;
    else details = `The connection to ${this.address} closed before the call ended`;
    this.end({ code: GrpcCode.UNAVAILABLE, details, metadata: NO_METADATA });
  }

  onRefused(why: Error): void {
    if (this.ended) return;
    // The server never saw the call (gRPC's transparent retry): once more, on another connection.
    if (!this.restarted) {
      this.restarted = true;
      if (this.restart(this)) return;
    }
    this.end({ code: GrpcCode.UNAVAILABLE, details: `Connection to ${this.address} failed: ${why.message}`, metadata: NO_METADATA });
  }

  /** Ends the call now with `code` and resets the stream if it is still open. */
  private fail(code: number, details: string, metadata: IncomingHttpHeaders = NO_METADATA): void {
    if (this.ended) return;
    this.end({ code, details, metadata });
    if (this.stream) this.state.session.reset(this.stream, H2_CODE.CANCEL);
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
  private readonly host: string;
  private readonly port: number;
  private readonly tls: ChannelTls | undefined;
  /** The fields every call sends before its :path, and those after it (RFC 9113: pseudo-headers first). */
  private readonly head: Buffer;
  private readonly tail: Buffer;
  /** Each method path's encoded :path field (a route calls one method). */
  private readonly paths = new Map<string, Buffer>();

  /**
   * @param address host:port of the target (also in error details).
   * @param tls set for a TLS target (`grpcs://`, `https://`: client.ts isTlsTarget), its CA and client certificate if any; undefined for h2c.
   */
  constructor(
    readonly address: string,
    tls: ChannelTls | undefined,
  ) {
    const colon = address.lastIndexOf(':');
    this.host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = Number(address.slice(colon + 1));
    this.tls = tls;
    this.head = new HeaderBlockBuilder()
      .raw(indexedField(STATIC_FIELD.methodPost))
      .raw(indexedField(tls !== undefined ? STATIC_FIELD.schemeHttps : STATIC_FIELD.schemeHttp))
      .add(':authority', address, STATIC_NAME.authority)
      .build();
    this.tail = new HeaderBlockBuilder()
      .add('content-type', 'application/grpc', STATIC_NAME.contentType)
      .add('te', 'trailers')
      .add('grpc-accept-encoding', 'identity')
      .add('user-agent', USER_AGENT, STATIC_NAME.userAgent)
      .build();
  }

  /** Open sessions (connections), for tests and diagnostics. */
  get sessionCount(): number {
    return this.sessions.length;
  }

  /** Starts a call of `path` ("/pkg.Service/Method") with one request message (already encoded). */
  start(path: string, message: Buffer, metadata: OutgoingHttpHeaders, timeoutMs: number, listener: CallListener): CallHandle {
    let block: Buffer;
    try {
      block = this.headerBlock(path, metadata, timeoutMs);
    } catch (err) {
      return this.notStarted(listener, err as Error);
    }
    const state = this.session();
    if (!state) return this.notStarted(listener, new Error(`the channel to ${this.address} is closed`));
    state.active++;
    const call = new ClientCall(state, this.address, timeoutMs, listener, block, frameMessage(message), this.restartCall);
    // session() gives only sessions that take new streams, so request() does not throw here.
    call.stream = state.session.request(block, call.body, call);
    return call;
  }

  /** A call the server refused, started again on the session session() picks (the refusing one takes no more). */
  private readonly restartCall = (call: ClientCall): boolean => {
    const state = this.session();
    if (!state) return false;
    call.state.active--;
    state.active++;
    call.state = state;
    call.stream = state.session.request(call.block, call.body, call);
    return true;
  };

  /** Closes the sessions: calls in flight finish, new ones would open another (the target is closing, so none come). */
  close(): void {
    this.closed = true;
    for (const s of this.sessions.splice(0)) s.session.close();
  }

  private headerBlock(path: string, metadata: OutgoingHttpHeaders, timeoutMs: number): Buffer {
    let pathField = this.paths.get(path);
    if (!pathField) {
      pathField = new HeaderBlockBuilder().add(':path', path, STATIC_NAME.path).build();
      if (this.paths.size < 64) this.paths.set(path, pathField);
    }
    const b = new HeaderBlockBuilder().raw(this.head).raw(pathField).raw(this.tail).add('grpc-timeout', grpcTimeout(timeoutMs));
    for (const name in metadata) {
      const v = metadata[name];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const one of v) b.add(name, one);
      else b.add(name, String(v));
    }
    return b.build();
  }

  private notStarted(listener: CallListener, err: Error): CallHandle {
    const details = `The call could not be started: ${err.message}`;
    queueMicrotask(() => listener.onEnd({ code: GrpcCode.INTERNAL, details, metadata: NO_METADATA }));
    return { cancel: () => undefined };
  }

  /** The open session with the fewest calls in flight; a new one when every session is busy and there is room. Undefined once closed. */
  private session(): SessionState | undefined {
    let best: SessionState | undefined;
    for (let i = this.sessions.length - 1; i >= 0; i--) {
      const s = this.sessions[i]!;
      if (!s.session.open) this.sessions.splice(i, 1);
      else if (!best || s.active < best.active) best = s;
    }
    if (best && (best.active < CALLS_PER_SESSION || this.sessions.length >= MAX_SESSIONS)) return best;
    if (this.closed) return undefined;
    // The next call connects again after a session is gone (GOAWAY, closed, failed); its calls in flight finish or are lost on it.
    const state: SessionState = { session: new H2Session(this.host, this.port, this.tls, () => this.drop(state)), active: 0 };
    this.sessions.push(state);
    return state;
  }

  private drop(state: SessionState): void {
    const i = this.sessions.indexOf(state);
    if (i !== -1) this.sessions.splice(i, 1);
  }
}
