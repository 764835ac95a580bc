/** What plugins learn about a request and share with later plugins (claims, consumer). */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { StaleSource } from './targets/stale-source.js';

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
  /** A cache's stale copy of this request's response, for `fallback: { cache: stale }` (targets/stale-source.ts). */
  staleSource?: StaleSource;
}

declare module 'fastify' {
  interface FastifyRequest {
    gatehouse: RequestState | null;
  }
}

/**
 * What the upstream layers (balancer, retries, observation) read of a request: a FastifyRequest
 * satisfies it, and so does the fast lane's own request (fast-lane/fast-request.ts).
 */
export interface CallerRequest {
  readonly id: string;
  readonly method: string;
  /** The normalised request target (path and query). */
  readonly url: string;
  readonly ip: string;
  readonly headers: IncomingHttpHeaders;
  readonly log: FastifyBaseLogger;
  /** `config.routeId`: the matched route. */
  readonly routeOptions: { readonly config: { readonly routeId?: string } };
  gatehouse: RequestState | null;
}

/** The request's state object, created on first use. */
export function stateOf(request: CallerRequest): RequestState {
  return (request.gatehouse ??= {});
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The config route id (absent on the not-found handler). */
    routeId?: string;
  }
}
