/** The one interface every load balancer implements. */
import type { FastifyRequest } from 'fastify';
import type { UpstreamTarget } from '../upstream/target.js';

export interface PickContext {
  /** The request being routed (for hash keys); absent for health probes and tests. */
  readonly request?: FastifyRequest;
  /** Targets already tried for this request (retries go elsewhere when they can). */
  readonly exclude?: ReadonlySet<UpstreamTarget>;
}

export interface Balancer {
  /** Chooses among the targets that are currently available, or undefined when there are none. */
  pick(available: readonly UpstreamTarget[], ctx: PickContext): UpstreamTarget | undefined;
  /** Told whenever the service's target list changes (for balancers that precompute). */
  update?(targets: readonly UpstreamTarget[]): void;
}
