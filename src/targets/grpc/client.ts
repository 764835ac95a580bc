/** One grpc-js client (one HTTP/2 channel) per upstream target, made on first use and closed with the target. */
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './deps.js';
import type { ServiceEntry } from '../../config/snapshot.js';
import type { UpstreamTarget } from '../../upstream/target.js';

const CLIENT = Symbol('gatehouse.grpcClient');

/** True for the target URL schemes that mean TLS under `protocol: grpc`. */
export function isTlsTarget(url: string): boolean {
  return url.startsWith('https:') || url.startsWith('grpcs:');
}

function credentialsFor(url: string, service: ServiceEntry): grpc.ChannelCredentials {
  if (!isTlsTarget(url)) return grpcJs().credentials.createInsecure();
  const tls = service.tlsMaterial;
  const buf = (s: string | undefined) => (s === undefined ? null : Buffer.from(s));
  return grpcJs().credentials.createSsl(buf(tls?.ca), buf(tls?.key), buf(tls?.cert));
}

/** The target's client; the address is host:port of its URL. */
export function grpcClientFor(target: UpstreamTarget, service: ServiceEntry): grpc.Client {
  return target.resource(CLIENT, () => {
    const u = new URL(target.url);
    const port = u.port || (isTlsTarget(target.url) ? '443' : '80');
    const options: grpc.ClientOptions = {
      // Per-call bookkeeping the gateway does not use: channelz stats, and grpc-js's own retry
      // layer (the gateway retries a call that found no connection itself, on another target).
      'grpc.enable_channelz': 0,
      'grpc.enable_retries': 0,
    };
    if (service.tlsMaterial?.servername) options['grpc.ssl_target_name_override'] = service.tlsMaterial.servername;
    const { Client } = grpcJs();
    const client = new Client(`${u.hostname}:${port}`, credentialsFor(target.url, service), options);
    return { value: client, close: () => client.close() };
  });
}
