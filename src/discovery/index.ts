/** Picks a service's discovery provider from its config (`discovery.static | dns | etcd | redis`). */
import type { ServiceEntry } from '../config/snapshot.js';
import { dnsDiscovery } from './dns.js';
import { etcdDiscovery } from './etcd.js';
import { silentDiscoveryLogger, type DiscoveryLogger } from './log.js';
import type { DiscoveryProvider } from './provider.js';
import { redisDiscovery } from './redis.js';
import { staticDiscovery } from './static.js';

/** The port A/AAAA targets get when `dns.port` is not set. */
export function defaultPort(protocol: string): number {
  return protocol === 'https' ? 443 : 80;
}

export function createDiscovery(service: ServiceEntry, logger: DiscoveryLogger = silentDiscoveryLogger): DiscoveryProvider {
  const { discovery, protocol } = service;
  if (discovery.dns) return dnsDiscovery({ ...discovery.dns, port: discovery.dns.port ?? defaultPort(protocol) }, protocol, logger);
  if (discovery.etcd) return etcdDiscovery(discovery.etcd, protocol, logger);
  if (discovery.redis) {
    // load.ts refuses redis discovery without gatehouse.yaml `redis`, so this is always set here.
    if (!service.discoveryRedis) throw new Error(`service ${service.name}: redis discovery needs the redis settings of gatehouse.yaml`);
    return redisDiscovery(discovery.redis, service.discoveryRedis, protocol, logger);
  }
  return staticDiscovery(service.targets);
}
