/**
 * The listening socket of one stream. It is a plain TCP server even for TLS streams (each
 * accepted socket is wrapped), so a reload that changes the stream's tls, service or timeouts
 * keeps the listener and its connections: new connections use the new settings.
 */
import net, { type AddressInfo } from 'node:net';
import type { StreamConnection, StreamRoute } from './connection.js';
import { StreamConnection as Connection } from './connection.js';

/** A stream's port could not be bound: start fails (or a reload is rejected) with this message. */
export class StreamListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamListenError';
  }
}

export class StreamListener {
  /** `host:listen` as configured: a change of it needs a new listener. */
  readonly bindKey: string;
  private route: StreamRoute;
  private readonly server: net.Server;
  private readonly connections = new Set<StreamConnection>();
  private drained: (() => void) | undefined;

  private constructor(route: StreamRoute, server: net.Server) {
    this.bindKey = bindKeyOf(route.entry);
    this.route = route;
    this.server = server;
    server.on('connection', (socket) => {
      // A connection ends on a later tick (socket 'close'), so adding it after construction is safe.
      this.connections.add(
        new Connection(socket, this.route, (ended) => {
          this.connections.delete(ended);
          if (this.connections.size === 0) this.drained?.();
        }),
      );
    });
  }

  /** Binds `host`:`entry.listen`; rejects with a message naming the stream and the address. */
  static async open(route: StreamRoute, host: string): Promise<StreamListener> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
    const { listen, id } = route.entry;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new StreamListenError(`stream "${id}" cannot listen on ${host}:${listen}: ${err.code ?? err.message}`)));
      server.listen(listen, host, () => resolve());
    });
    server.removeAllListeners('error');
    server.on('error', (err) => route.logger.error({ stream: id, err }, 'stream listener error'));
    return new StreamListener(route, server);
  }

  /** New connections use `route` from now on; open ones keep theirs. */
  update(route: StreamRoute): void {
    this.route = route;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** Stops accepting; open connections get up to `graceMs` to end by themselves, then are closed. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.connections.size > 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      const deadline = setTimeout(() => {
        for (const c of [...this.connections]) c.shutdown();
      }, graceMs);
      deadline.unref();
      await drained;
      clearTimeout(deadline);
    }
    await closed;
  }
}

export function bindKeyOf(entry: { readonly host: string; readonly listen: number }): string {
  return `${entry.host}:${entry.listen}`;
}
