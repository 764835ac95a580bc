/**
 * The running gateway: owns the listening server, swaps in a freshly built app on reload
 * (in-flight requests finish on the old one), and drains on shutdown.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createHttp2Listener, type Http2Listener, type ServerRequest, type ServerResponse } from './http2-listener.js';
import type { FastifyBaseLogger } from 'fastify';
import { buildApp, type GatewayApp } from './app.js';
import { MAX_HEADER_BYTES, MAX_HEADER_COUNT } from './request-head.js';
import { ConfigError, formatIssue } from './config/diagnostics.js';
import { loadConfig, type LoadOptions } from './config/load.js';
import type { Snapshot } from './config/snapshot.js';
import { rawProblem } from './errors.js';
import { createDiscovery } from './discovery/index.js';
import { connectRedis, type RedisConnection } from './redis/connection.js';
import { ServiceSet } from './upstream/services.js';
import type { FastifyInstance } from 'fastify';
import { buildAdminApp } from './admin/server.js';
import { describeService } from './admin/describe.js';
import type { AdminSource, ServiceReport } from './admin/source.js';
import { watchConfig } from './config/watch.js';
import { addTargetStateSource, collectProcessMetrics, configGeneration, lastReloadSuccess, metricsText, reloads, type TargetState } from './observability/metrics.js';
import { createTracer, type RequestTracer } from './observability/tracing.js';
import { notePeer } from './observability/access-log.js';
import { holdHeapTight } from './heap-settings.js';
import type { UpstreamService } from './upstream/service.js';
import { GrpcIngress } from './targets/grpc/ingress.js';
import { StreamSet, type StreamPlan } from './streams/stream-set.js';
import { attachUpgrade, responseOnSocket, type OpenTunnel } from './targets/websocket/pending-upgrade.js';

export interface GatewayOptions extends LoadOptions {
  logger: FastifyBaseLogger;
  /** Overrides server.port (0 = any free port; tests). */
  port?: number;
  /** Overrides server.host, grpcServer.host and every stream's host. */
  host?: string;
  /** Overrides admin.port (0 = any free port; tests). */
  adminPort?: number;
  /** Reload when a config file changes (the CLI turns this on). */
  watch?: boolean;
  /** Overrides grpcServer.port (0 = any free port; tests). */
  grpcPort?: number;
  /** Serve the admin API from this process (false in cluster workers: the primary serves it). */
  admin?: boolean;
  /** The config, loaded already from these options (the CLI reads the worker count from it): served without loading it again. */
  snapshot?: Snapshot;
}

/** How long a new service may wait for its first discovered targets before the gateway serves without them. */
const DISCOVERY_WAIT = 5000;
/** How long start (or a reload that changes `redis`) waits for Redis before serving anyway. */
const REDIS_STARTUP_WAIT_MS = 2000;

export type ReloadResult = { ok: true; generation: number } | { ok: false; errors: string[] };

interface Generation {
  built: GatewayApp;
  snapshot: Snapshot;
  inflight: number;
  /** Ends one of its requests (inflight--), retiring the generation when it was the last after a reload: one function per generation, not per request. */
  release: () => void;
  /** Services the next generation dropped: closed once this one has drained. */
  closeWith: UpstreamService[];
  /** The Redis connection this generation used, when the next one opened a different one. */
  closeRedis?: RedisConnection;
  /** Ends the reload's tight heap (heap-settings.ts) once this generation, the one replaced, is retired. */
  releaseHeap?: () => void;
}

export class Gateway implements AdminSource {
  readonly logger: FastifyBaseLogger;
  readonly serviceSet: ServiceSet;
  private readonly options: GatewayOptions;
  private server!: http.Server | https.Server | Http2Listener['server'];
  /** Set with `server.http2: true`: sessions to drain with GOAWAY on close. */
  private http2: Http2Listener | undefined;
  private current!: Generation;
  private generationNo = 0;
  private draining = false;
  private reloading: Promise<ReloadResult> | undefined;
  private admin: FastifyInstance | undefined;
  private stopWatching: (() => void) | undefined;
  private tracer: RequestTracer | undefined;
  private stopStateSource: (() => void) | undefined;
  /** The one Redis connection all plugins share (absent without `redis` in gatehouse.yaml). */
  private redis: RedisConnection | undefined;
  private redisSettings = 'null';
  private grpcIngress: GrpcIngress | undefined;
  private grpcPort: number | undefined;
  /** Layer-4 routes (`streams:`): their listeners live across reloads. */
  private readonly streams: StreamSet;
  /** Open WebSocket connections: they outlive the generation that opened them, and close with the gateway. */
  private readonly tunnels = new Set<OpenTunnel>();
  /** Sockets of upgrade requests still being answered (not tunnels). */
  private readonly upgradeSockets = new Set<Socket>();

  private constructor(options: GatewayOptions) {
    this.options = options;
    this.logger = options.logger;
    this.serviceSet = new ServiceSet({ logger: options.logger, providerFor: (service) => createDiscovery(service, options.logger.child({ service: service.name })) });
    this.streams = new StreamSet({ logger: options.logger, serviceFor: (name) => this.serviceSet.get(name), host: options.host });
  }

  /** Loads config (throws ConfigError on any problem), builds the app and listens. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const gw = new Gateway(options);
    // Loading leaves garbage behind: the heap stays tight (heap-settings.ts) until the gateway listens.
    const releaseHeap = holdHeapTight();
    try {
      return await Gateway.startWith(gw, options);
    } finally {
      releaseHeap();
    }
  }

  /** start's work: the first generation, the listeners and the config watch. */
  private static async startWith(gw: Gateway, options: GatewayOptions): Promise<Gateway> {
    const snapshot = options.snapshot ?? (await loadConfig(options));
    collectProcessMetrics();
    // Tracing is set up once per process: a change to `tracing` applies at the next start.
    gw.tracer = createTracer(snapshot.settings.tracing);
    const first = await gw.build(snapshot);
    gw.current = first.gen;
    gw.streams.commit(first.streams, snapshot.settings.server.shutdownGrace);
    configGeneration.set(gw.generationNo);
    gw.stopStateSource = addTargetStateSource(() => gw.targetStates());
    try {
      await gw.listen();
      if (snapshot.grpcServer) await gw.listenGrpc(snapshot.grpcServer);
      if (options.admin !== false && snapshot.settings.admin.enabled) await gw.listenAdmin();
    } catch (err) {
      await gw.close(0);
      throw err;
    }
    if (options.watch) {
      gw.stopWatching = watchConfig(snapshot, (file) => {
        gw.logger.info({ file }, 'config changed; reloading');
        void gw.reload();
      });
    }
    return gw;
  }

  /** gRPC ingress: its methods are fixed at start; which route serves each follows reloads. */
  private async listenGrpc(config: NonNullable<Snapshot['grpcServer']>): Promise<void> {
    this.grpcIngress = new GrpcIngress(config.protos, {
      logger: this.logger,
      acquire: () => {
        const gen = this.current;
        gen.inflight++;
        return {
          app: gen.built.app,
          snapshot: gen.snapshot,
          done: () => {
            gen.inflight--;
            if (gen !== this.current && gen.inflight === 0) void this.retire(gen);
          },
        };
      },
    });
    this.grpcPort = await this.grpcIngress.listen(this.options.host ?? config.host, this.options.grpcPort ?? config.port);
    this.logger.info({ address: this.options.host ?? config.host, port: this.grpcPort }, 'gRPC ingress listening');
  }

  /** The gRPC ingress port, when grpcServer is configured. */
  grpcAddress(): number | undefined {
    return this.grpcPort;
  }

  private async listenAdmin(): Promise<void> {
    const { admin } = this.current.snapshot.settings;
    this.admin = await buildAdminApp(this, this.logger);
    await this.admin.listen({ port: this.options.adminPort ?? admin.port, host: admin.host });
    this.logger.info({ address: admin.host, port: this.adminAddress()?.port }, 'admin listening');
  }

  /** The admin server's address, when it runs in this process. */
  adminAddress(): AddressInfo | undefined {
    return this.admin?.server.address() as AddressInfo | undefined;
  }

  // AdminSource
  async services(): Promise<ServiceReport[]> {
    return [...this.serviceSet.all()].map(describeService);
  }
  ready(): boolean {
    return !this.draining;
  }
  metrics(): Promise<{ contentType: string; body: string }> {
    return metricsText(false);
  }

  private *targetStates(): Iterable<TargetState> {
    for (const svc of this.serviceSet.all()) {
      const d = describeService(svc);
      for (const t of d.targets) yield { service: svc.name, target: t.url, healthy: t.healthy && !t.ejected, breaker: t.breaker, panic: d.panic === true };
    }
  }

  snapshot(): Snapshot {
    return this.current.snapshot;
  }

  get app(): GatewayApp {
    return this.current.built;
  }

  generation(): number {
    return this.generationNo;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** The bound address of stream `id` (a stream with listen: 0 gets a free port). */
  streamAddress(id: string): AddressInfo | undefined {
    return this.streams.address(id);
  }

  /** Builds a generation; returns it with the services (and Redis connection) it no longer uses. */
  private async build(snapshot: Snapshot): Promise<{ gen: Generation; dropped: UpstreamService[]; oldRedis?: RedisConnection; streams: StreamPlan }> {
    const before = this.serviceSet.snapshot();
    const dropped = this.serviceSet.sync(snapshot.services);
    const redisSettings = JSON.stringify(snapshot.settings.redis ?? null);
    const redisChanged = redisSettings !== this.redisSettings;
    let redis = this.redis;
    if (redisChanged && snapshot.settings.redis) {
      redis = connectRedis(snapshot.settings.redis, this.logger);
      await redis.waitUntilReady(REDIS_STARTUP_WAIT_MS);
    } else if (redisChanged) redis = undefined;
    try {
      await this.awaitDiscovery(before);
      const built = await buildApp({ snapshot, services: this.serviceSet, logger: this.logger, tracer: this.tracer, redis });
      // Stream listeners the config needs are bound before it serves: a busy port rejects it.
      let streams: StreamPlan;
      try {
        streams = await this.streams.prepare(snapshot.streams);
      } catch (err) {
        await built.app.close().catch(() => undefined);
        throw err;
      }
      this.generationNo++;
      const oldRedis = redisChanged ? this.redis : undefined;
      this.redis = redis;
      this.redisSettings = redisSettings;
      return { gen: this.newGeneration(built, snapshot), dropped, oldRedis, streams };
    } catch (err) {
      // Nothing changes: the old services stay, the ones made for this attempt go.
      const made = this.serviceSet.restore(before);
      await Promise.all(made.map((s) => s.close()));
      if (redisChanged) await redis?.close();
      throw err;
    }
  }

  /**
   * New services (at start, or whose config changed on reload) get up to DISCOVERY_WAIT for
   * their first targets before the generation serves, so DNS/etcd/Redis services do not
   * answer 503 while their first answer is on its way.
   */
  private async awaitDiscovery(before: ReadonlyMap<string, UpstreamService>): Promise<void> {
    const old = new Set(before.values());
    const fresh = [...this.serviceSet.all()].filter((s) => !old.has(s));
    await Promise.all(
      fresh.map(async (s) => {
        if (!(await s.whenDiscovered(DISCOVERY_WAIT))) {
          this.logger.warn({ service: s.name, waitedMs: DISCOVERY_WAIT }, 'discovery has found no targets yet; the service answers 503 until it does');
        }
      }),
    );
  }

  private newGeneration(built: GatewayApp, snapshot: Snapshot): Generation {
    const gen: Generation = {
      built,
      snapshot,
      inflight: 0,
      closeWith: [],
      release: () => {
        gen.inflight--;
        if (gen !== this.current && gen.inflight === 0) void this.retire(gen);
      },
    };
    return gen;
  }

  private handle = (req: ServerRequest, res: ServerResponse): void => {
    const gen = this.current;
    gen.inflight++;
    if (this.draining && res instanceof http.ServerResponse) res.shouldKeepAlive = false;
    notePeer(req);
    // The fast lane's own close listener releases the request; 'close' comes once, so `on` (no once-wrapper).
    if (gen.built.fastLane?.serve(req as http.IncomingMessage, res as http.ServerResponse, gen.release)) return;
    res.on('close', gen.release);
    // HTTP/2 requests arrive as Node's compat objects, which Fastify routes like HTTP/1.1 ones.
    gen.built.app.routing(req as http.IncomingMessage, res as http.ServerResponse);
  };

  /**
   * An upgrade request goes through the current app like any other request (path normalisation,
   * route match, the route's plugins), answered on its own socket: only a WebSocket route's
   * handler switches protocols (targets/websocket); anything else gets a plain answer and the socket closes.
   */
  private handleUpgrade = (req: http.IncomingMessage, socket: Socket, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    // Node's HTTP server no longer tracks an upgrade's socket: the gateway does, until it closes
    // or becomes a tunnel, so that shutdown can cut it at the end of the grace period.
    this.upgradeSockets.add(socket);
    socket.once('close', () => this.upgradeSockets.delete(socket));
    const gen = this.current;
    gen.inflight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      gen.inflight--;
      if (gen !== this.current && gen.inflight === 0) void this.retire(gen);
    };
    const res = responseOnSocket(req, socket);
    res.once('finish', release);
    res.once('close', release);
    attachUpgrade(req, {
      socket,
      head,
      protocol: String(req.headers.upgrade ?? ''),
      opened: (tunnel) => {
        release();
        this.upgradeSockets.delete(socket);
        this.tunnels.add(tunnel);
        void tunnel.closed.then(() => this.tunnels.delete(tunnel));
        if (this.draining) tunnel.close();
      },
    });
    gen.built.app.routing(req, res);
  };

  private async listen(): Promise<void> {
    const s = this.current.snapshot.settings.server;
    const opts: http.ServerOptions = {
      requestTimeout: s.timeouts.request,
      headersTimeout: Math.min(s.timeouts.headers, s.timeouts.request || Infinity),
      keepAliveTimeout: s.timeouts.keepAlive,
      // How often Node checks the header and request timeouts: often enough to honour short ones.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(s.timeouts.headers / 4))),
      maxHeaderSize: MAX_HEADER_BYTES,
    };
    const tls = this.current.snapshot.tls;
    const onClientError = (err: NodeJS.ErrnoException, socket: Socket): void => {
      if (!socket.writable || (err.code === 'ECONNRESET' && socket.bytesRead === 0)) return void socket.destroy();
      const code =
        err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
      const detail = code === 'BAD_REQUEST' ? `malformed request (${err.code ?? 'parse error'})` : undefined;
      socket.end(rawProblem(code, randomUUID(), detail));
    };
    if (s.http2) {
      this.http2 = createHttp2Listener(
        {
          tls,
          timeouts: s.timeouts,
          maxHeaderPairs: MAX_HEADER_COUNT,
          http1: opts,
          onClientError,
          onSessionError: (err) => this.logger.debug({ err }, 'HTTP/2 session error'),
        },
        this.handle,
      );
      this.server = this.http2.server;
    } else {
      this.server = tls ? https.createServer({ ...opts, cert: tls.cert, key: tls.key }, this.handle) : http.createServer(opts, this.handle);
      this.server.on('clientError', onClientError);
    }
    // WebSocket upgrades: HTTP/1.1 requests, also on an HTTP/2 TLS port with its HTTP/1.1 fallback.
    this.server.on('upgrade', this.handleUpgrade);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? s.port, this.options.host ?? s.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.address();
    this.logger.info({ address: a.address, port: a.port, routes: this.current.snapshot.routes.length, tls: Boolean(tls), http2: s.http2 }, 'gateway listening');
  }

  /** Re-reads every config file; a valid config is swapped in, an invalid one leaves the running one serving. */
  reload(): Promise<ReloadResult> {
    // Reloads run one at a time; a reload asked for during another runs after it.
    const run = async (): Promise<ReloadResult> => {
      if (this.draining) return { ok: false, errors: ['the gateway is shutting down'] };
      // Two generations are alive until the old one retires: the heap stays tight until then.
      const releaseHeap = holdHeapTight();
      let next: Generation;
      let dropped: UpstreamService[];
      let oldRedis: RedisConnection | undefined;
      let streams: StreamPlan;
      try {
        ({ gen: next, dropped, oldRedis, streams } = await this.build(await loadConfig(this.options, this.current.snapshot)));
      } catch (err) {
        const errors = err instanceof ConfigError ? err.issues.map(formatIssue) : [(err as Error).message];
        for (const e of errors) this.logger.error(e);
        this.logger.error({ errors: errors.length }, 'reload rejected; the running config keeps serving');
        reloads.inc({ result: 'error' });
        lastReloadSuccess.set(0);
        releaseHeap();
        return { ok: false, errors };
      }
      reloads.inc({ result: 'ok' });
      lastReloadSuccess.set(1);
      configGeneration.set(this.generationNo);
      const old = this.current;
      old.closeWith = dropped;
      old.closeRedis = oldRedis;
      old.releaseHeap = releaseHeap;
      this.current = next;
      this.streams.commit(streams, next.snapshot.settings.server.shutdownGrace);
      this.logger.info({ generation: this.generationNo, routes: next.snapshot.routes.length }, 'config reloaded');
      if (old.inflight === 0) void this.retire(old);
      return { ok: true, generation: this.generationNo };
    };
    const p = (this.reloading ?? Promise.resolve()).then(run, run);
    this.reloading = p;
    return p;
  }

  private async retire(gen: Generation): Promise<void> {
    await gen.built.app.close().catch(() => undefined);
    await Promise.all(gen.closeWith.map((s) => s.close()));
    await gen.closeRedis?.close();
    gen.releaseHeap?.();
  }

  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes everything. */
  async close(graceMs = this.current.snapshot.settings.server.shutdownGrace): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.stopWatching?.();
    this.stopStateSource?.();
    // A reload under way (large ones take seconds) finishes first, so that what it opened is closed below.
    await this.reloading?.catch(() => undefined);
    await this.admin?.close().catch(() => undefined);
    const grpcClosed = this.grpcIngress?.close(graceMs);
    const streamsClosed = this.streams.close(graceMs);
    if (!this.server?.listening) {
      await grpcClosed;
      await streamsClosed;
      await this.serviceSet.close();
      await this.redis?.close();
      return;
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const server = this.server;
    const h2 = this.http2;
    if (h2) h2.drain();
    else (server as http.Server).closeIdleConnections();
    // Open WebSockets have no end of their own: they get the grace period, then are closed.
    const deadline = setTimeout(() => {
      if (h2) h2.destroyAll();
      else (server as http.Server).closeAllConnections();
      for (const tunnel of this.tunnels) tunnel.close();
      for (const socket of this.upgradeSockets) socket.destroy();
    }, graceMs);
    deadline.unref();
    await closed;
    clearTimeout(deadline);
    await grpcClosed;
    await streamsClosed;
    await this.current.built.app.close().catch(() => undefined);
    await this.serviceSet.close();
    await this.tracer?.shutdown().catch(() => undefined);
    await this.redis?.close();
  }
}
