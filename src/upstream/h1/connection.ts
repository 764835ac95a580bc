/**
 * One keep-alive HTTP/1.1 connection of the gateway's own upstream client (h1/pool.ts): one
 * request at a time, bodiless (the proxy's GETs and the like), its answer parsed by
 * ResponseParser and handed to an undici-style dispatch handler (onConnect, onHeaders, onData,
 * onComplete, onError), so StreamedAnswer serves both clients unchanged. Backpressure from the
 * handler pauses the socket. Timeouts as undici's: connect, the response head (from the request),
 * each pause in the body; and an idle connection closes after the pool's idle time (or the
 * upstream's Keep-Alive hint less a second, when shorter).
 */
import net from 'node:net';
import { H1Error } from './errors.js';
import { ResponseParser, type ResponseSink } from './response-parser.js';

export interface H1Handler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: Error): void;
}

export interface H1Request {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Longest wait for the response head, from the request. */
  readonly headersTimeout: number;
  /** Longest pause while the body arrives. */
  readonly bodyTimeout: number;
}

/** What a connection needs of its pool. */
export interface ConnectionOwner {
  /** The Host header sent when the request has none. */
  readonly authority: string;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
  readonly maxHeadBytes: number;
  /** The connection may take another request. */
  release(conn: H1Connection): void;
  /** The connection is closed. */
  forget(conn: H1Connection): void;
}

type Phase = 'connecting' | 'idle' | 'busy' | 'closed';

const BAD_VALUE = /[\0\r\n]/;
const BAD_PATH = /[\0-\x20\x7f]/;

export class H1Connection implements ResponseSink {
  private phase: Phase = 'connecting';
  private readonly socket: net.Socket;
  private handler: H1Handler | undefined;
  /** The parser of the answer in flight (undefined when none is); `reader` is reset for each. */
  private parser: ResponseParser | undefined;
  private readonly reader: ResponseParser;
  private request: H1Request | undefined;
  /** Bytes read and not parsed while the handler has the body paused. */
  private stash: Buffer | undefined;
  private paused = false;
  private gotHead = false;
  /** This answer's keep-alive hint, in ms. */
  private hintMs: number | undefined;
  private idleMs: number;
  /** The connect, head and body waits; re-armed, not made again, while its length stays the same. */
  private readonly wait = new Deadline(() => this.onWaitOver());
  private readonly idleWait = new Deadline(() => this.onIdleOver());

  constructor(
    private readonly owner: ConnectionOwner,
    host: string,
    port: number,
  ) {
    this.idleMs = owner.idleTimeout;
    this.reader = new ResponseParser(this, false, owner.maxHeadBytes);
    this.socket = net.connect({ host, port, noDelay: true });
    this.wait.arm(owner.connectTimeout);
    this.socket.on('connect', this.onConnected);
    this.socket.on('data', this.onSocketData);
    this.socket.on('end', this.onSocketEnd);
    this.socket.on('error', this.onSocketError);
    this.socket.on('close', this.onSocketClose);
  }

  /** Sends `request`; its answer goes to `handler`. The connection must be idle (or still connecting). */
  start(request: H1Request, handler: H1Handler): void {
    this.handler = handler;
    this.request = request;
    this.gotHead = false;
    this.hintMs = undefined;
    this.reader.reset(request.method === 'HEAD');
    this.parser = this.reader;
    handler.onConnect((err) => {
      if (this.handler === handler) this.fail(err ?? new H1Error('UND_ERR_ABORTED', 'Request aborted'));
    });
    if (this.handler !== handler) return; // aborted at once
    let head: string;
    try {
      head = requestHead(request, this.owner.authority);
    } catch (err) {
      this.handler = undefined;
      this.parser = undefined;
      this.request = undefined;
      if (this.phase === 'connecting') this.close();
      else this.owner.release(this);
      handler.onError(err as Error);
      return;
    }
    if (this.phase !== 'connecting') {
      this.phase = 'busy';
      this.wait.arm(request.headersTimeout);
    }
    this.socket.write(head, 'latin1');
  }

  /** Closes the connection (an idle one at once; the pool is closing). */
  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.wait.clear();
    this.idleWait.clear();
    this.socket.destroy();
    this.owner.forget(this);
  }

  /** Ends the request in flight with `err` and closes. */
  destroy(err: Error): void {
    if (this.handler) this.fail(err);
    else this.close();
  }

  // ResponseSink: called by the parser inside feed().
  onHead(status: number, rawHeaders: string[], keepAlive: boolean, keepAliveMs: number | undefined): void {
    this.gotHead = true;
    this.hintMs = keepAlive ? keepAliveMs : undefined;
    const handler = this.handler!;
    this.wait.arm(this.request!.bodyTimeout);
    handler.onHeaders(status, rawHeaders, () => {
      if (this.handler === handler) this.resume();
    });
  }

  onBody(chunk: Buffer): boolean {
    const handler = this.handler;
    if (handler === undefined) return false; // failed meanwhile (the handler aborted)
    this.wait.arm(this.request!.bodyTimeout);
    if (handler.onData(chunk)) return true;
    this.paused = true;
    this.socket.pause();
    return false;
  }

  onEnd(): void {
    // Settled in read(), after the parser has returned: what follows the answer decides reuse.
  }

  private onConnected = (): void => {
    // A connection is made for a request; one that failed or was aborted meanwhile is closed already.
    if (this.phase !== 'connecting' || this.request === undefined) return;
    this.phase = 'busy';
    this.wait.arm(this.request.headersTimeout);
  };

  private onSocketData = (data: Buffer): void => {
    if (this.phase !== 'busy' || this.parser === undefined) {
      // Bytes nobody asked for (an idle connection): it cannot be trusted with a request.
      this.close();
      return;
    }
    this.read(data);
  };

  private read(data: Buffer): void {
    const parser = this.parser!;
    let rest: Buffer | undefined;
    try {
      rest = parser.feed(data);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (this.parser !== parser) return; // the handler aborted while the answer was read
    if (parser.done) this.finish(parser.reusable && rest === undefined);
    else if (rest !== undefined) this.stash = rest;
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const stash = this.stash;
    this.stash = undefined;
    if (stash) this.read(stash);
    if (!this.paused && this.phase === 'busy') this.socket.resume();
  }

  private finish(reusable: boolean): void {
    const handler = this.handler!;
    this.handler = undefined;
    this.parser = undefined;
    this.request = undefined;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (reusable) {
      if (this.hintMs !== undefined) this.idleMs = Math.min(this.owner.idleTimeout, this.hintMs - 1000);
      if (this.idleMs > 0) this.becomeIdle();
      else this.close();
    } else this.close();
    handler.onComplete();
  }

  private becomeIdle(): void {
    this.phase = 'idle';
    this.idleWait.arm(this.idleMs);
    this.owner.release(this);
  }

  private fail(err: Error): void {
    const handler = this.handler;
    this.handler = undefined;
    this.parser = undefined;
    this.request = undefined;
    this.stash = undefined;
    this.close();
    handler?.onError(err);
  }

  private onSocketEnd = (): void => {
    // Node reads no further while the body is paused: the end comes after every byte was handed over.
    const parser = this.parser;
    if (parser && parser.closeDelimited) {
      parser.end();
      this.finish(false);
      return;
    }
    this.fail(new H1Error('UND_ERR_SOCKET', 'other side closed'));
  };

  private onSocketError = (err: Error): void => {
    this.fail(err);
  };

  private onSocketClose = (): void => {
    this.fail(new H1Error('UND_ERR_SOCKET', 'other side closed'));
  };

  private onWaitOver(): void {
    if (this.phase === 'connecting') this.fail(new H1Error('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'));
    else if (this.phase === 'busy') {
      this.fail(this.gotHead ? new H1Error('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error') : new H1Error('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'));
    }
  }

  private onIdleOver(): void {
    if (this.phase === 'idle') this.close();
  }
}

/**
 * A wait that ends `ms` after it was last armed: one unref'd timer, refreshed when armed again
 * with the same length (no new timer per request). Its owner checks, when it runs, whether the
 * wait still matters (the connection's phase).
 */
class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private ms = 0;

  constructor(private readonly over: () => void) {}

  arm(ms: number): void {
    if (this.timer !== undefined && this.ms === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.ms = ms;
    this.timer = setTimeout(this.over, ms);
    this.timer.unref();
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** The request line and header fields; throws on a value that would break the message. */
function requestHead(request: H1Request, authority: string): string {
  if (BAD_PATH.test(request.path)) throw new H1Error('UND_ERR_INVALID_ARG', 'invalid request path');
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  const headers = request.headers;
  if (headers.host === undefined) head += `host: ${authority}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') head += field(name, value);
    else for (const v of value) head += field(name, v);
  }
  return `${head}connection: keep-alive\r\n\r\n`;
}

function field(name: string, value: string): string {
  if (BAD_VALUE.test(value) || BAD_VALUE.test(name)) throw new H1Error('UND_ERR_INVALID_ARG', `invalid ${name} header`);
  return `${name}: ${value}\r\n`;
}
