/** Discovery providers all have this one shape: they call back with the full target list whenever it changes. */
import type { TargetSpec } from '../config/snapshot.js';

export interface DiscoveryProvider {
  /**
   * Starts watching; calls onTargets with every new list (synchronously for static, later for
   * dns/etcd/redis). Providers never announce an empty list nor an unchanged one: on failure
   * or an empty answer the last good list stays. Returns a function that stops watching.
   */
  watch(onTargets: (targets: readonly TargetSpec[]) => void): () => void;
}
