/** One upstream instance: its URL, weight, keep-alive pool, health state and live counters. */
import { Pool } from 'undici';
import type { BalancerTarget } from '../balancers/balancer.js';
import type { ServiceEntry } from '../config/snapshot.js';
import { LatencyEwma } from './latency-ewma.js';

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
  /** Response-time EWMA in milliseconds, or null before the first response. */
  latencyEwmaMs: number | null;
}

export class UpstreamTarget implements BalancerTarget {
  readonly url: string;
  weight: number;
  readonly pool: Pool;
  /** Requests sent and not yet fully answered. */
  inflight = 0;
  /** Set by active health checks; a target starts healthy. */
  healthy = true;
  /** Passive health: epoch ms until which the target is ejected (0: never ejected). */
  ejectedUntil = 0;
  readonly latency = new LatencyEwma();
  private readonly listeners: OutcomeListener[] = [];

  constructor(url: string, weight: number, service: ServiceEntry) {
    this.url = url;
    this.weight = weight;
    const tls = service.tlsMaterial;
    this.pool = new Pool(url, {
      connections: service.maxConnections > 0 ? service.maxConnections : null,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: service.timeout,
      bodyTimeout: service.timeout,
      connect: {
        timeout: service.connectTimeout,
        ...(tls?.ca ? { ca: tls.ca } : {}),
        ...(tls?.cert ? { cert: tls.cert } : {}),
        ...(tls?.key ? { key: tls.key } : {}),
        ...(tls?.servername ? { servername: tls.servername } : {}),
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
    };
  }

  close(): Promise<void> {
    return this.pool.close().catch(() => undefined);
  }

  destroy(): Promise<void> {
    return this.pool.destroy().catch(() => undefined);
  }
}
