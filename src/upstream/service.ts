/** A service: its discovered targets, kept in place across list changes, and the balancer that picks one. */
import type { FastifyRequest } from 'fastify';
import type { ServiceEntry, TargetSpec } from '../config/snapshot.js';
import type { Balancer } from '../balancers/balancer.js';
import { createBalancer } from '../balancers/index.js';
import type { DiscoveryProvider } from '../discovery/provider.js';
import { createDiscovery } from '../discovery/index.js';
import { UpstreamTarget } from './target.js';

export class UpstreamService {
  readonly name: string;
  readonly config: ServiceEntry;
  private targets: UpstreamTarget[] = [];
  private readonly balancer: Balancer;
  private readonly stopWatching: () => void;
  private markDiscovered!: () => void;
  private readonly discovered = new Promise<void>((resolve) => (this.markDiscovered = resolve));

  constructor(config: ServiceEntry, provider: DiscoveryProvider = createDiscovery(config)) {
    this.name = config.name;
    this.config = config;
    this.balancer = createBalancer(config);
    this.stopWatching = provider.watch((list) => this.setTargets(list));
  }

  /**
   * Resolves true once discovery has announced targets (at once for static ones), or false
   * after `timeoutMs` without any (the service answers 503 until they come).
   */
  whenDiscovered(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    return Promise.race([this.discovered.then(() => true), timeout]).finally(() => clearTimeout(timer));
  }

  /** Every target currently known. */
  list(): readonly UpstreamTarget[] {
    return this.targets;
  }

  /** Applies a new target list: targets that stay keep their pools and counters. */
  setTargets(specs: readonly TargetSpec[]): void {
    if (specs.length > 0) this.markDiscovered();
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
    return this.balancer.pick(this.targets, { request, exclude });
  }

  async close(): Promise<void> {
    this.stopWatching();
    await Promise.all(this.targets.map((t) => t.close()));
  }
}
