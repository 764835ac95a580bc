/**
 * The gateway's own HTTP/1.1 connection pool for one cleartext target, for the proxy's bodiless
 * requests (the plain route's GETs): a stack of idle keep-alive connections (the most recently
 * used first), a new connection when none is idle, no cap. undici stays the client for
 * everything else (bodies, TLS, HTTP/2, capped pools, aggregates, health checks): on the
 * plain route this one costs about half of undici's CPU per request (bench/README.md).
 */
import { H1Connection, type ConnectionOwner, type H1Handler, type H1Request } from './connection.js';
import { H1Error } from './errors.js';

export interface H1PoolOptions {
  readonly connectTimeout: number;
  /** How long an idle connection is kept (undici's keepAliveTimeout). */
  readonly idleTimeout: number;
  /** The largest response head read. */
  readonly maxHeadBytes: number;
}

export class H1Pool implements ConnectionOwner {
  readonly authority: string;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
  readonly maxHeadBytes: number;
  private readonly idle: H1Connection[] = [];
  private readonly open = new Set<H1Connection>();
  private closing = false;
  private whenEmpty: (() => void) | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** The Host header for requests without one: the target URL's host (no default port). */
    authority: string,
    options: H1PoolOptions,
  ) {
    this.authority = authority;
    this.connectTimeout = options.connectTimeout;
    this.idleTimeout = options.idleTimeout;
    this.maxHeadBytes = options.maxHeadBytes;
  }

  /** Connections open now (idle or busy). */
  get size(): number {
    return this.open.size;
  }

  dispatch(request: H1Request, handler: H1Handler): void {
    if (this.closing) {
      handler.onConnect(() => undefined);
      handler.onError(new H1Error('UND_ERR_CLOSED', 'The client is closed'));
      return;
    }
    let conn = this.idle.pop();
    if (conn === undefined) {
      conn = new H1Connection(this, this.host, this.port);
      this.open.add(conn);
    }
    conn.start(request, handler);
  }

  release(conn: H1Connection): void {
    if (this.closing) conn.close();
    else this.idle.push(conn);
  }

  forget(conn: H1Connection): void {
    this.open.delete(conn);
    const i = this.idle.lastIndexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.open.size === 0) this.whenEmpty?.();
  }

  /** Takes no more requests; resolves once those in flight have finished. */
  close(): Promise<void> {
    this.closing = true;
    for (const conn of this.idle.splice(0)) conn.close();
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.whenEmpty = resolve));
  }

  /** Ends every connection now, failing the requests in flight. */
  destroy(): Promise<void> {
    this.closing = true;
    for (const conn of [...this.open]) conn.destroy(new H1Error('UND_ERR_DESTROYED', 'The client is destroyed'));
    return Promise.resolve();
  }
}
