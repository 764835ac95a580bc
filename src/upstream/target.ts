/** One upstream instance: its URL, weight, keep-alive pool and live counters. */
import { Pool } from 'undici';
import type { ServiceEntry } from '../config/snapshot.js';

export class UpstreamTarget {
  readonly url: string;
  weight: number;
  readonly pool: Pool;
  /** Requests sent and not yet fully answered. */
  inflight = 0;

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

  close(): Promise<void> {
    return this.pool.close().catch(() => undefined);
  }

  destroy(): Promise<void> {
    return this.pool.destroy().catch(() => undefined);
  }
}
