/** One upstream instance: its URL, weight, keep-alive pool and live counters. */
import { Pool } from 'undici';
import type { ServiceEntry } from '../config/snapshot.js';
import { TargetBreaker, type BreakerState } from './breaker.js';

export class UpstreamTarget {
  readonly url: string;
  weight: number;
  readonly pool: Pool;
  /** Requests sent and not yet fully answered. */
  inflight = 0;
  /** This target's circuit breaker (upstream/breaker.ts); undefined when the service has none. */
  readonly breaker: TargetBreaker | undefined;

  constructor(url: string, weight: number, service: ServiceEntry) {
    this.url = url;
    this.weight = weight;
    this.breaker = service.circuitBreaker ? new TargetBreaker(service.circuitBreaker, `${service.name} ${url}`) : undefined;
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

  /** True while the breaker refuses calls (open, or half-open with its probe in flight): do not pick. */
  breakerOpen(): boolean {
    return this.breaker?.refusing() ?? false;
  }

  /** closed | open | half-open, for the admin API and metrics (closed when the service has no breaker). */
  get breakerState(): BreakerState {
    return this.breaker?.state ?? 'closed';
  }

  close(): Promise<void> {
    this.breaker?.shutdown();
    return this.pool.close().catch(() => undefined);
  }

  destroy(): Promise<void> {
    this.breaker?.shutdown();
    return this.pool.destroy().catch(() => undefined);
  }
}
