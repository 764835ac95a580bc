/** One upstream instance: its URL, weight, keep-alive pool, health state and live counters. */
import { Pool } from 'undici';
import type { BalancerTarget } from '../balancers/balancer.js';
import type { ServiceEntry } from '../config/snapshot.js';
import { H1Pool } from './h1/pool.js';
import { LatencyEwma } from './latency-ewma.js';
import { TargetBreaker, type BreakerState } from './breaker.js';

/** Told about every response (or failure) the proxy saw from a target. */
export type OutcomeListener = (target: UpstreamTarget, ok: boolean, ms: number) => void;

/** A target as the admin API shows it (plain JSON). */
export interface TargetDescription {
  url: string;
  weight: number;
  /** May the balancer choose it now (healthy and not ejected). */
  available: boolean;
  /** The active health check's verdict (true when there is no active check). */
  healthy: boolean;
  /** Ejected by passive health checks. */
  ejected: boolean;
  /** ISO time the ejection ends, or null. */
  ejectedUntil: string | null;
  inflight: number;
  /** closed | open | half-open (closed when the service has no breaker). */
  breaker: BreakerState;
  /** Response-time EWMA in milliseconds, or null before the first response. */
  latencyEwmaMs: number | null;
}

/** A per-target resource other than the HTTP pool (a gRPC channel), closed with the target. */
export interface TargetResource<T> {
  readonly value: T;
  close(): void;
}

/** Concurrent HTTP/2 streams per upstream connection (`http2: true` services). */
const H2_STREAMS_PER_CONNECTION = 100;
/** How long an idle upstream connection is kept (below Node's 5 s server default, so the upstream never closes one first). */
const KEEP_ALIVE_MS = 4_000;
/** The largest upstream response head read (Node's and undici's default). */
const MAX_HEAD_BYTES = 16 * 1024;

export class UpstreamTarget implements BalancerTarget {
  readonly url: string;
  weight: number;
  /** Requests sent and not yet fully answered. */
  inflight = 0;
  /** Set by active health checks; a target starts healthy. */
  healthy = true;
  /** Passive health: epoch ms until which the target is ejected (0: never ejected). */
  ejectedUntil = 0;
  readonly latency = new LatencyEwma();
  private readonly listeners: OutcomeListener[] = [];
  /** This target's circuit breaker (upstream/breaker.ts); undefined when the service has none. */
  readonly breaker: TargetBreaker | undefined;
  private readonly service: ServiceEntry;
  private httpPool: Pool | undefined;
  /** undefined: not made yet; null: this target cannot use it. */
  private ownPool: H1Pool | null | undefined;
  private readonly resources = new Map<symbol, TargetResource<unknown>>();

  constructor(url: string, weight: number, service: ServiceEntry) {
    this.url = url;
    this.weight = weight;
    this.service = service;
    this.breaker = service.circuitBreaker ? new TargetBreaker(service.circuitBreaker, `${service.name} ${url}`) : undefined;
  }

  /** The undici pool, made on first use (gRPC targets never make one). */
  get pool(): Pool {
    return (this.httpPool ??= this.makePool());
  }

  /**
   * The gateway's own HTTP/1.1 pool (upstream/h1/), for bodiless requests, when the target can
   * take it: a cleartext `http://host:port` target of a service without http2 or maxConnections.
   */
  get h1(): H1Pool | undefined {
    if (this.ownPool === undefined) this.ownPool = this.makeH1Pool();
    return this.ownPool ?? undefined;
  }

  private makeH1Pool(): H1Pool | null {
    const service = this.service;
    if (service.http2 || service.maxConnections > 0) return null;
    let url: URL;
    try {
      url = new URL(this.url);
    } catch {
      return null;
    }
    if (url.protocol !== 'http:' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '') return null;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    return new H1Pool(hostname, url.port === '' ? 80 : Number(url.port), url.host, {
      connectTimeout: service.connectTimeout,
      idleTimeout: KEEP_ALIVE_MS,
      maxHeadBytes: MAX_HEAD_BYTES,
    });
  }

  /** The resource stored under `key`, made by `make` on first use; closed when the target closes. */
  resource<T>(key: symbol, make: () => TargetResource<T>): T {
    let r = this.resources.get(key) as TargetResource<T> | undefined;
    if (!r) {
      r = make();
      this.resources.set(key, r);
    }
    return r.value;
  }

  private makePool(): Pool {
    const service = this.service;
    const tls = service.tlsMaterial;
    const h2 = service.http2;
    return new Pool(this.url, {
      connections: service.maxConnections > 0 ? service.maxConnections : null,
      // HTTP/2: up to this many streams share one connection (undici caps HTTP/2 streams by `pipelining`).
      pipelining: h2 ? H2_STREAMS_PER_CONNECTION : 1,
      ...(h2 ? { allowH2: true, maxConcurrentStreams: H2_STREAMS_PER_CONNECTION } : {}),
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: service.timeout,
      bodyTimeout: service.timeout,
      connect: {
        timeout: service.connectTimeout,
        ...(tls?.ca ? { ca: tls.ca } : {}),
        ...(tls?.cert ? { cert: tls.cert } : {}),
        ...(tls?.key ? { key: tls.key } : {}),
        ...(tls?.servername ? { servername: tls.servername } : {}),
        // Cleartext targets: h2c with prior knowledge (https targets negotiate h2 by ALPN).
        ...(h2 && this.url.startsWith('http:') ? { useH2c: true } : {}),
      },
    });
  }

  /**
   * The one predicate for "may the balancer choose this target". Everything that can take a
   * target out of rotation (health checks, ejection, a circuit breaker) belongs here.
   */
  available(now = Date.now()): boolean {
    return this.healthy && this.ejectedUntil <= now;
  }

  ejected(now = Date.now()): boolean {
    return this.ejectedUntil > now;
  }

  /**
   * The proxy reports each upstream exchange: `ms` until response headers (or failure), and
   * whether it counts as a success (a 5xx, connect error or timeout does not; a 4xx does).
   */
  observe(ms: number, ok: boolean): void {
    this.latency.record(ms, ok);
    for (const l of this.listeners) l(this, ok, ms);
  }

  onOutcome(listener: OutcomeListener): void {
    this.listeners.push(listener);
  }

  latencyEstimate(now: number): number | undefined {
    return this.latency.estimate(now);
  }

  describe(now = Date.now()): TargetDescription {
    const ejected = this.ejected(now);
    const ewma = this.latency.last;
    return {
      url: this.url,
      weight: this.weight,
      available: this.available(now),
      healthy: this.healthy,
      ejected,
      ejectedUntil: ejected ? new Date(this.ejectedUntil).toISOString() : null,
      inflight: this.inflight,
      latencyEwmaMs: ewma === undefined ? null : Math.round(ewma * 1000) / 1000,
      breaker: this.breakerState,
    };
  }

  /** True while the breaker refuses calls (open, or half-open with its probe in flight): do not pick. */
  breakerOpen(): boolean {
    return this.breaker?.refusing() ?? false;
  }

  /** closed | open | half-open, for the admin API and metrics (closed when the service has no breaker). */
  get breakerState(): BreakerState {
    return this.breaker?.state ?? 'closed';
  }

  private closeResources(): void {
    for (const r of this.resources.values()) r.close();
    this.resources.clear();
  }

  close(): Promise<void> {
    this.breaker?.shutdown();
    this.closeResources();
    const own = this.ownPool ? this.ownPool.close() : undefined;
    const pool = this.httpPool ? this.httpPool.close().catch(() => undefined) : undefined;
    return Promise.all([own, pool]).then(() => undefined);
  }

  destroy(): Promise<void> {
    this.breaker?.shutdown();
    this.closeResources();
    const own = this.ownPool ? this.ownPool.destroy() : undefined;
    const pool = this.httpPool ? this.httpPool.destroy().catch(() => undefined) : undefined;
    return Promise.all([own, pool]).then(() => undefined);
  }
}
