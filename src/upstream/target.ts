/** One upstream instance: its URL, weight, keep-alive pool and live counters. */
import { Pool } from 'undici';
import type { ServiceEntry } from '../config/snapshot.js';

/** A per-target resource other than the HTTP pool (a gRPC channel), closed with the target. */
export interface TargetResource<T> {
  readonly value: T;
  close(): void;
}

export class UpstreamTarget {
  readonly url: string;
  weight: number;
  /** Requests sent and not yet fully answered. */
  inflight = 0;
  private readonly service: ServiceEntry;
  private httpPool: Pool | undefined;
  private readonly resources = new Map<symbol, TargetResource<unknown>>();

  constructor(url: string, weight: number, service: ServiceEntry) {
    this.url = url;
    this.weight = weight;
    this.service = service;
  }

  /** The undici pool, made on first use (gRPC targets never make one). */
  get pool(): Pool {
    return (this.httpPool ??= this.makePool());
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
    return new Pool(this.url, {
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

  private closeResources(): void {
    for (const r of this.resources.values()) r.close();
    this.resources.clear();
  }

  close(): Promise<void> {
    this.closeResources();
    return this.httpPool ? this.httpPool.close().catch(() => undefined) : Promise.resolve();
  }

  destroy(): Promise<void> {
    this.closeResources();
    return this.httpPool ? this.httpPool.destroy().catch(() => undefined) : Promise.resolve();
  }
}
