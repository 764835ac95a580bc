/** Balancer names as written in config (`loadBalancer:`) to their factories. */
import type { ServiceEntry } from '../config/snapshot.js';
import type { Balancer } from './balancer.js';
import { consistentHash } from './consistent-hash.js';
import { hashKeyOf } from './hash-key.js';
import { leastConnections } from './least-connections.js';
import { p2cEwma } from './p2c-ewma.js';
import { random } from './random.js';
import { roundRobin } from './round-robin.js';
import { weightedRoundRobin } from './weighted-round-robin.js';

export function createBalancer(service: Pick<ServiceEntry, 'loadBalancer' | 'hashKey'>): Balancer {
  switch (service.loadBalancer) {
    case 'round-robin':
      return roundRobin();
    case 'weighted-round-robin':
      return weightedRoundRobin();
    case 'least-connections':
      return leastConnections();
    case 'consistent-hash':
      // load.ts refuses consistent-hash without a hashKey, except on tcp services (streams pass the client address as the key).
      return consistentHash({ keyOf: service.hashKey ? hashKeyOf(service.hashKey) : undefined });
    case 'p2c-ewma':
      return p2cEwma();
    case 'random':
      return random();
  }
}
