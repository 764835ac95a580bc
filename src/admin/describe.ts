/** Live state of one service for GET /services and the health/breaker gauges. */
import type { UpstreamService } from '../upstream/service.js';
import type { ServiceReport } from './source.js';

export function describeService(svc: UpstreamService): ServiceReport {
  const d = svc.describe();
  return {
    name: d.name,
    protocol: svc.config.protocol,
    loadBalancer: d.balancer,
    panic: d.panic,
    targets: d.targets.map((t) => ({ ...t, breaker: 'closed' })),
  };
}
