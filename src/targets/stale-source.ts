/**
 * How a response cache offers its last copy of a response to the `fallback: { cache: stale }`
 * of a route. The cache plugin calls offerStale(request, source) in its hooks (for a request it
 * could not answer fresh); if the upstream then turns out to be unavailable, the fallback calls
 * `source()` and, when it gives a response, answers with it and `x-cache: STALE`.
 * Kept on the request's own state (request.gatehouse), so a reload or a second gateway in the
 * same process never mixes up sources, and a custom plugin that loaded its own copy of this
 * module still reaches the same place.
 */
import type { FastifyRequest } from 'fastify';
import { stateOf } from '../request-state.js';

export interface StaleResponse {
  readonly status: number;
  /** The stored response headers (hop-by-hop ones already removed). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer | string;
  /** When the copy was stored (epoch milliseconds), for the Age header. */
  readonly storedAt: number;
}

/** Gives the stale copy for one request, or undefined when there is none. */
export type StaleSource = () => StaleResponse | undefined | Promise<StaleResponse | undefined>;

/** Offers the stale copy of this request's response to the route's fallback. */
export function offerStale(request: FastifyRequest, source: StaleSource): void {
  stateOf(request).staleSource = source;
}

export function staleSourceOf(request: FastifyRequest): StaleSource | undefined {
  return request.gatehouse?.staleSource;
}
