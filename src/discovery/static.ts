/** `discovery.static`: the list in config, announced once. */
import type { TargetSpec } from '../config/snapshot.js';
import type { DiscoveryProvider } from './provider.js';

export function staticDiscovery(targets: readonly TargetSpec[]): DiscoveryProvider {
  return {
    watch(onTargets) {
      onTargets(targets);
      return () => undefined;
    },
  };
}
