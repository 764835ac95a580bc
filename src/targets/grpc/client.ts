/** One gRPC channel (one HTTP/2 connection) per upstream target, made on first use and closed with the target. */
import type { ServiceEntry } from '../../config/snapshot.js';
import type { UpstreamTarget } from '../../upstream/target.js';
import { GrpcChannel } from './channel.js';

const CHANNEL = Symbol('gatehouse.grpcChannel');

/** True for the target URL schemes that mean TLS under `protocol: grpc`. */
export function isTlsTarget(url: string): boolean {
  return url.startsWith('https:') || url.startsWith('grpcs:');
}

/** The target's channel; the address is host:port of its URL. */
export function grpcChannelFor(target: UpstreamTarget, service: ServiceEntry): GrpcChannel {
  return target.resource(CHANNEL, () => {
    const u = new URL(target.url);
    const port = u.port || (isTlsTarget(target.url) ? '443' : '80');
    const tls = isTlsTarget(target.url) ? (service.tlsMaterial ?? {}) : undefined;
    const channel = new GrpcChannel(`${u.hostname}:${port}`, tls);
    return { value: channel, close: () => channel.close() };
  });
}
