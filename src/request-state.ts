/** What plugins learn about a request and share with later plugins (claims, consumer). */
import type { FastifyRequest } from 'fastify';

export interface RequestState {
  /** Verified token claims (jwt, oauth2). */
  jwt?: Readonly<Record<string, unknown>>;
  /** The authenticated consumer's name (api-key, oauth2 client, jwt subject per config). */
  consumer?: string;
  /** The upstream target that served the request, for logs. */
  target?: string;
  /** Milliseconds until the upstream answered with headers (Server-Timing). */
  upstreamMs?: number;
  /** Response bytes, when the response had no Content-Length. */
  bytes?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    gatehouse: RequestState | null;
  }
}

/** The request's state object, created on first use. */
export function stateOf(request: FastifyRequest): RequestState {
  return (request.gatehouse ??= {});
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The config route id (absent on the not-found handler). */
    routeId?: string;
  }
}
