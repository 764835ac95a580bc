/** The one interface every load balancer implements. */
import type { CallerRequest } from '../request-state.js';
import type { UpstreamTarget } from '../upstream/target.js';

/** What a balancer may read of a target. UpstreamTarget has it; tests and the bench use plain objects. */
export interface BalancerTarget {
  readonly url: string;
  readonly weight: number;
  /** Requests sent and not yet fully answered. */
  readonly inflight: number;
  /**
   * Latency EWMA in milliseconds at time `now` (performance.now()), decayed while nothing is
   * observed; undefined before the target's first response.
   */
  latencyEstimate(now: number): number | undefined;
}

export interface PickContext<T extends BalancerTarget = UpstreamTarget> {
  /** The request being routed (for hash keys); absent for health probes and tests. */
  readonly request?: CallerRequest;
  /** A hash key given directly (callers without a Fastify request, tests); wins over `request`. */
  readonly key?: string;
  /** Targets already tried for this request (retries go elsewhere when they can). */
  readonly exclude?: ReadonlySet<T>;
}

export interface Balancer<T extends BalancerTarget = UpstreamTarget> {
  /** Chooses among the targets that are currently available, or undefined when there are none. */
  pick(available: readonly T[], ctx: PickContext<T>): T | undefined;
  /** Told whenever the service's target list changes (for balancers that precompute). */
  update?(targets: readonly T[]): void;
}

/**
 * The targets a pick may choose from: `available` minus the excluded ones, or all of
 * `available` when that would leave none (a retry with one target goes to the same one).
 * Allocates only when something is excluded.
 */
export function candidates<T extends BalancerTarget>(available: readonly T[], exclude: ReadonlySet<T> | undefined): readonly T[] {
  if (exclude === undefined || exclude.size === 0) return available;
  let hit = false;
  for (const t of available) if (exclude.has(t)) hit = true;
  if (!hit) return available;
  const rest = available.filter((t) => !exclude.has(t));
  return rest.length > 0 ? rest : available;
}
