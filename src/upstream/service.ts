/**
 * A service: its discovered targets, kept in place across list changes, the health checks that
 * take targets out of rotation, and the balancer that picks one of those left.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CallerRequest } from '../request-state.js';
import type { ServiceEntry, TargetSpec } from '../config/snapshot.js';
import type { Balancer } from '../balancers/balancer.js';
import { createBalancer } from '../balancers/index.js';
import { silentLogger } from '../cli/silent-logger.js';
import type { DiscoveryProvider } from '../discovery/provider.js';
import { createDiscovery } from '../discovery/index.js';
import { ActiveHealthCheck } from './active-health.js';
import { passiveHealth } from './passive-health.js';
import { tcpProbe } from './tcp-probe.js';
import { RetryBudget } from './retry-budget.js';
import { UpstreamTarget, type OutcomeListener, type TargetDescription } from './target.js';

export interface ServiceOptions {
  logger?: FastifyBaseLogger;
  /** Run active health checks (default true; `gatehouse validate` turns them off). */
  healthChecks?: boolean;
}

/** A service as the admin API shows it (plain JSON). */
export interface ServiceDescription {
  name: string;
  balancer: string;
  /** Every target is unavailable, so all of them are offered anyway (Envoy's panic mode). */
  panic: boolean;
  targets: TargetDescription[];
}

export class UpstreamService {
  readonly name: string;
  readonly config: ServiceEntry;
  private targets: UpstreamTarget[] = [];
  private readonly balancer: Balancer;
  private readonly log: FastifyBaseLogger;
  private readonly passive: OutcomeListener | undefined;
  private readonly active: ActiveHealthCheck | undefined;
  private readonly stopWatching: () => void;
  private panicking = false;
  /** What pick() last offered the balancer, the list it came from and which of those were up. */
  private offered: readonly UpstreamTarget[] = [];
  private offeredFrom: readonly UpstreamTarget[] | undefined;
  private up = new Uint8Array(0);
  /** Caps the retries of every route of this service to a share of its traffic (upstream/retry-budget.ts). */
  readonly retryBudget: RetryBudget;

  private markDiscovered!: () => void;
  private readonly discovered = new Promise<void>((resolve) => (this.markDiscovered = resolve));

  constructor(config: ServiceEntry, provider: DiscoveryProvider = createDiscovery(config), options: ServiceOptions = {}) {
    this.name = config.name;
    this.config = config;
    this.balancer = createBalancer(config);
    this.log = (options.logger ?? silentLogger).child({ service: config.name });
    const hc = config.healthCheck;
    if (hc.passive) {
      this.passive = passiveHealth(hc.passive, (t, until) =>
        this.log.warn({ target: t.url, until: new Date(until).toISOString() }, 'target ejected after consecutive failures'),
      );
    }
    if (hc.active && options.healthChecks !== false) {
      this.active = new ActiveHealthCheck(hc.active, () => this.targets, (t, healthy, reason) => {
        if (healthy) this.log.info({ target: t.url, reason }, 'target healthy again (active health check)');
        else this.log.warn({ target: t.url, reason }, 'target marked unhealthy (active health check)');
        this.checkPanic();
      }, config.protocol === 'tcp' ? tcpProbe(hc.active.timeout) : undefined);
    }
    this.retryBudget = new RetryBudget(config.retry?.budget);
    this.stopWatching = provider.watch((list) => this.setTargets(list));
    this.active?.start();
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

  /** Applies a new target list: targets that stay keep their pools, counters and health. */
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
        const t = new UpstreamTarget(spec.url, spec.weight, this.config);
        if (this.passive) t.onOutcome(this.passive);
        next.push(t);
      }
    }
    for (const gone of byUrl.values()) void gone.close();
    this.targets = next;
    this.balancer.update?.(next);
  }

  /**
   * Picks a target among the available ones. When none is available but targets exist, all
   * are offered (panic: better to try a target marked down than to fail every request).
   * Undefined only when the service has no target at all. `key` is a consistent-hash key given
   * directly (streams pass the client address).
   */
  pick(request?: CallerRequest, exclude?: ReadonlySet<UpstreamTarget>, key?: string): UpstreamTarget | undefined {
    const all = this.targets;
    if (all.length === 0) return undefined;
    const now = Date.now();
    // Per target: 0 = its breaker refuses calls (never offered), 1 = unhealthy or ejected
    // (offered only in panic mode), 2 = available. The offered array stays the same object
    // while these do not change (balancers cache by it).
    let changed = this.offeredFrom !== all;
    if (changed) this.up = new Uint8Array(all.length);
    let available = 0;
    let closed = 0;
    for (let i = 0; i < all.length; i++) {
      const t = all[i]!;
      const state = t.breakerOpen() ? 0 : t.available(now) ? 2 : 1;
      if (state === 2) available++;
      if (state !== 0) closed++;
      if (this.up[i] !== state) {
        this.up[i] = state;
        changed = true;
      }
    }
    // Panic (Envoy): when no target is available, route to every one whose breaker allows it.
    this.setPanic(available === 0 && closed > 0);
    if (changed) {
      this.offeredFrom = all;
      const want = available > 0 ? 2 : 1;
      this.offered = (available > 0 ? available : closed) === all.length ? all : all.filter((_, i) => this.up[i]! >= want);
    }
    return this.offered.length === 0 ? undefined : this.balancer.pick(this.offered, { request, exclude, key });
  }

  /** True while every target is unavailable and all are offered anyway. */
  get panic(): boolean {
    return this.checkPanic();
  }

  private checkPanic(now = Date.now()): boolean {
    const all = this.targets;
    const panic = all.length > 0 && !all.some((t) => t.available(now));
    this.setPanic(panic);
    return panic;
  }

  private setPanic(panic: boolean): void {
    if (panic === this.panicking) return;
    this.panicking = panic;
    if (panic) this.log.warn({ targets: this.targets.length }, 'every target is unavailable: routing to all of them (panic mode)');
    else this.log.info('targets available again: panic mode over');
  }

  /** The service and each target's state, for the admin API. */
  describe(): ServiceDescription {
    const now = Date.now();
    return {
      name: this.name,
      balancer: this.config.loadBalancer,
      panic: this.checkPanic(now),
      targets: this.targets.map((t) => t.describe(now)),
    };
  }

  async close(): Promise<void> {
    this.active?.stop();
    this.stopWatching();
    await Promise.all(this.targets.map((t) => t.close()));
  }
}
