/** A service: its discovered targets, kept in place across list changes, and the balancer that picks one. */
import type { FastifyRequest } from 'fastify';
import type { ServiceEntry, TargetSpec } from '../config/snapshot.js';
import type { Balancer } from '../balancers/balancer.js';
import { createBalancer } from '../balancers/index.js';
import type { DiscoveryProvider } from '../discovery/provider.js';
import { staticDiscovery } from '../discovery/static.js';
import { RetryBudget } from './retry-budget.js';
import { UpstreamTarget } from './target.js';

export class UpstreamService {
  readonly name: string;
  readonly config: ServiceEntry;
  private targets: UpstreamTarget[] = [];
  private readonly balancer: Balancer;
  private readonly stopWatching: () => void;
  /** Caps the retries of every route of this service to a share of its traffic (upstream/retry-budget.ts). */
  readonly retryBudget: RetryBudget;

  constructor(config: ServiceEntry, provider: DiscoveryProvider = staticDiscovery(config.targets)) {
    this.name = config.name;
    this.config = config;
    this.balancer = createBalancer(config);
    this.retryBudget = new RetryBudget(config.retry?.budget);
    this.stopWatching = provider.watch((list) => this.setTargets(list));
  }

  /** Every target currently known. */
  list(): readonly UpstreamTarget[] {
    return this.targets;
  }

  /** Applies a new target list: targets that stay keep their pools and counters. */
  setTargets(specs: readonly TargetSpec[]): void {
    const byUrl = new Map(this.targets.map((t) => [t.url, t]));
    const next: UpstreamTarget[] = [];
    for (const spec of specs) {
      const kept = byUrl.get(spec.url);
      if (kept) {
        kept.weight = spec.weight;
        byUrl.delete(spec.url);
        next.push(kept);
      } else {
        next.push(new UpstreamTarget(spec.url, spec.weight, this.config));
      }
    }
    for (const gone of byUrl.values()) void gone.close();
    this.targets = next;
    this.balancer.update?.(next);
  }

  pick(request?: FastifyRequest, exclude?: ReadonlySet<UpstreamTarget>): UpstreamTarget | undefined {
    // A target whose circuit breaker refuses calls is never picked.
    const ready = this.config.circuitBreaker ? this.targets.filter((t) => !t.breakerOpen()) : this.targets;
    return this.balancer.pick(ready, { request, exclude });
  }

  async close(): Promise<void> {
    this.stopWatching();
    await Promise.all(this.targets.map((t) => t.close()));
  }
}
