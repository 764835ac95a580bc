/** Checks of a service's balancing and health settings that the schema cannot express. */
import type { ConfigIssue, Segment } from './diagnostics.js';
import type { ServiceConfig } from './schema.js';
import type { SourceFile } from './source.js';

export function checkBalancing(svc: ServiceConfig, source: SourceFile, at: readonly Segment[], issues: ConfigIssue[]): void {
  // tcp services hash by client address without being told (checkTcpService).
  if (svc.loadBalancer === 'consistent-hash' && svc.hashKey === undefined && svc.protocol !== 'tcp') {
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

/**
 * A tcp service carries raw bytes for `streams:`: there is no request to hash but the client
 * address, no HTTP status for health checks, breakers or retries, and DNS answers need a port.
 */
export function checkTcpService(svc: ServiceConfig, source: SourceFile, at: readonly Segment[], issues: ConfigIssue[]): void {
  if (svc.protocol !== 'tcp') return;
  if (svc.hashKey !== undefined && svc.hashKey !== 'ip') {
    issues.push(source.issue([...at, 'hashKey'], 'tcp services hash by client address: hashKey must be ip'));
  }
  if (svc.healthCheck.active?.expectStatus !== undefined) {
    issues.push(source.issue([...at, 'healthCheck', 'active', 'expectStatus'], 'tcp health checks only connect; there is no status to expect'));
  }
  for (const key of ['circuitBreaker', 'retry', 'tls'] as const) {
    if (svc[key] !== undefined) issues.push(source.issue([...at, key], `does not apply to tcp services (streams connect once, with failover to another target)`));
  }
  if (svc.http2) issues.push(source.issue([...at, 'http2'], 'tcp services carry raw bytes; http2 applies to http and https services'));
  const dns = svc.discovery.dns;
  if (dns && dns.type !== 'SRV' && dns.port === undefined) {
    issues.push(source.issue([...at, 'discovery', 'dns'], `tcp services need dns.port for ${dns.type} records`));
  }
}
