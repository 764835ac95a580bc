/**
 * One client connection of a stream: optional TLS termination, a target connect with
 * failover, then bytes both ways with back-pressure (stream.pipe) and half-close (each
 * direction ends on its own), closed on both sides after `idleTimeout` without traffic.
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import type { StreamEntry } from '../config/snapshot.js';
import { streamActiveConnections, streamBytes, streamConnectErrors, streamConnections } from '../observability/metrics.js';
import type { UpstreamService } from '../upstream/service.js';
import type { UpstreamTarget } from '../upstream/target.js';
import { connectTarget } from './connect-target.js';

/** How a connection ended (the `outcome` label of gatehouse_stream_connections_total). */
export type StreamOutcome = 'closed' | 'idle_timeout' | 'error' | 'unavailable' | 'tls_error' | 'shutdown';

/** What a new connection uses, read once when it is accepted. */
export interface StreamRoute {
  readonly entry: StreamEntry;
  readonly service: UpstreamService | undefined;
  readonly secureContext: tls.SecureContext | undefined;
  readonly logger: FastifyBaseLogger;
}

export class StreamConnection {
  private readonly route: StreamRoute;
  private readonly raw: net.Socket;
  private client: net.Socket;
  private upstream: net.Socket | undefined;
  private target: UpstreamTarget | undefined;
  private outcome: StreamOutcome | undefined;
  private readonly aborter = new AbortController();
  private open = 0;
  private done = false;
  private reported = false;
  /** TLS: the handshake finished (an error before it is a tls_error); plain TCP: always. */
  private handshaken = false;
  private readonly onEnd: (c: StreamConnection) => void;

  constructor(raw: net.Socket, route: StreamRoute, onEnd: (c: StreamConnection) => void) {
    this.raw = raw;
    this.route = route;
    this.onEnd = onEnd;
    streamActiveConnections.inc({ stream: route.entry.id });
    raw.setNoDelay(true);
    if (route.secureContext) {
      // The TLS socket takes over the raw one; errors surface on it, this only keeps a late one from throwing.
      raw.on('error', () => this.finish('error'));
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: route.secureContext });
      this.client = secure;
      secure.once('secure', () => {
        this.handshaken = true;
        void this.connect();
      });
    } else {
      this.client = raw;
      this.handshaken = true;
    }
    this.watch(this.client);
    // Any byte either way passes through the client socket, so its timer is the connection's idle timer.
    this.client.setTimeout(route.entry.idleTimeout, () => this.finish('idle_timeout'));
    if (this.handshaken) void this.connect();
  }

  /** Counts a socket as open until its 'close'; an error on it ends the whole connection. */
  private watch(socket: net.Socket): void {
    this.open++;
    socket.on('error', () => this.finish(this.handshaken ? 'error' : 'tls_error'));
    socket.once('close', (hadError) => {
      this.open--;
      const other = socket === this.client ? this.upstream : this.client;
      // An abortive close (reset, destroy) of one side takes the other down; a clean one
      // (both directions ended) leaves the other to flush and close by itself.
      if (hadError || !socket.readableEnded || !socket.writableFinished) this.finish(hadError ? 'error' : 'closed');
      else if (other === undefined || other.destroyed) this.finish('closed');
      if (this.open === 0) this.report();
    });
  }

  private async connect(): Promise<void> {
    const { entry, service, logger } = this.route;
    if (this.done) return;
    const connected = service
      ? await connectTarget(service, {
          timeoutMs: entry.connectTimeout ?? service.config.connectTimeout,
          key: this.raw.remoteAddress,
          signal: this.aborter.signal,
          onFailure: (target, err) => {
            streamConnectErrors.inc({ stream: entry.id, service: service.name, target: target.url });
            logger.warn({ stream: entry.id, service: service.name, target: target.url, code: err.code }, 'stream connect to target failed');
          },
        })
      : undefined;
    if (!connected) {
      if (!this.done) logger.warn({ stream: entry.id, service: entry.service }, 'stream has no reachable target; closing the client connection');
      this.finish('unavailable');
      return;
    }
    if (this.done) {
      connected.target.inflight--;
      connected.socket.destroy();
      return;
    }
    this.target = connected.target;
    const up = (this.upstream = connected.socket);
    this.watch(up);
    const toUpstream = streamBytes.labels(entry.id, 'upstream');
    const toClient = streamBytes.labels(entry.id, 'downstream');
    this.client.on('data', (chunk: Buffer) => toUpstream.inc(chunk.length));
    up.on('data', (chunk: Buffer) => toClient.inc(chunk.length));
    this.client.pipe(up);
    up.pipe(this.client);
  }

  /** Ends the connection now (first outcome wins): both sockets are destroyed. */
  finish(outcome: StreamOutcome): void {
    this.outcome ??= outcome;
    if (this.done) return;
    this.done = true;
    this.aborter.abort();
    this.client.destroy();
    this.upstream?.destroy();
    if (this.open === 0) this.report();
  }

  /** Drain deadline passed: close both sides. */
  shutdown(): void {
    this.finish('shutdown');
  }

  private report(): void {
    if (this.reported) return;
    this.reported = true;
    this.done = true;
    if (this.target) this.target.inflight--;
    const id = this.route.entry.id;
    streamActiveConnections.dec({ stream: id });
    streamConnections.inc({ stream: id, outcome: this.outcome ?? 'closed' });
    this.onEnd(this);
  }
}
