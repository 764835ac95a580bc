/** Balancer names as written in config (`loadBalancer:`) to their factories. */
import type { ServiceEntry } from '../config/snapshot.js';
import type { Balancer } from './balancer.js';
import { roundRobin } from './round-robin.js';

export function createBalancer(service: ServiceEntry): Balancer {
  switch (service.loadBalancer) {
    case 'round-robin':
      return roundRobin();
  }
}
