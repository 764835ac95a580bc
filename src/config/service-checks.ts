/** Checks of a service's balancing and health settings that the schema cannot express. */
import type { ConfigIssue, Segment } from './diagnostics.js';
import type { ServiceConfig } from './schema.js';
import type { SourceFile } from './source.js';

export function checkBalancing(svc: ServiceConfig, source: SourceFile, at: readonly Segment[], issues: ConfigIssue[]): void {
  if (svc.loadBalancer === 'consistent-hash' && svc.hashKey === undefined) {
    issues.push(source.issue([...at, 'loadBalancer'], 'consistent-hash needs hashKey: ip, path, header:NAME, cookie:NAME, query:NAME or jwt:CLAIM'));
  }
  const active = svc.healthCheck.active;
  if (active) {
    const a = [...at, 'healthCheck', 'active'];
    if (active.interval < 1) issues.push(source.issue([...a, 'interval'], 'must be at least 1ms'));
    if (active.timeout < 1) issues.push(source.issue([...a, 'timeout'], 'must be at least 1ms'));
  }
  const passive = svc.healthCheck.passive;
  if (passive && passive.ejectFor < 1) issues.push(source.issue([...at, 'healthCheck', 'passive', 'ejectFor'], 'must be at least 1ms'));
}

/** `http2: true` picks HTTP/2 for http and https services; gRPC services always speak it. */
export function checkHttp2(svc: ServiceConfig, source: SourceFile, at: readonly Segment[], issues: ConfigIssue[]): void {
  if (svc.http2 && svc.protocol === 'grpc') issues.push(source.issue([...at, 'http2'], 'gRPC services always use HTTP/2; http2 applies to http and https services'));
}
