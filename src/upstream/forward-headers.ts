/** The headers a proxied request carries upstream: the client's end-to-end ones plus X-Forwarded-*, x-request-id and Host. */
import type { IncomingHttpHeaders } from 'node:http';
import { requestHeadersToForward } from './hop-by-hop.js';

export interface ForwardOptions {
  /** server.trustProxy === false: client-sent Forwarded headers are dropped. */
  readonly untrustedClients: boolean;
  /** Send the client's Host (HTTP/2: :authority) instead of the target's. */
  readonly preserveHost: boolean;
}

/** What the forwarded headers are made of: a FastifyRequest, or the fast lane's request. */
export interface ForwardedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined };
  readonly protocol: string;
  readonly host: string;
  readonly id: string;
}

export function upstreamRequestHeaders(request: ForwardedRequest, options: ForwardOptions): Record<string, string | string[]> {
  const headers = requestHeadersToForward(request.headers, options.untrustedClients);
  const xff = request.headers['x-forwarded-for'];
  const peer = request.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${peer}` : peer;
  headers['x-forwarded-proto'] = request.protocol;
  headers['x-forwarded-host'] = request.host;
  headers['x-request-id'] = request.id;
  if (options.preserveHost) {
    // HTTP/2 clients name the host in :authority (Host is optional there).
    const host = request.headers.host ?? request.headers[':authority'];
    if (typeof host === 'string') headers.host = host;
  }
  return headers;
}
