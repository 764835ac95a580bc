/** Live state of one service for GET /services. */
import type { UpstreamService } from '../upstream/service.js';
import type { ServiceReport } from './source.js';

export function describeService(svc: UpstreamService): ServiceReport {
  return {
    name: svc.name,
    protocol: svc.config.protocol,
    loadBalancer: svc.config.loadBalancer,
    targets: svc.list().map((t) => ({
      url: t.url,
      weight: t.weight,
      healthy: true,
      ejected: false,
      breaker: 'closed',
      inflight: t.inflight,
      latencyEwmaMs: null,
    })),
  };
}
