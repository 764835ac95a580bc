/**
 * The cache as other gateway parts use it for one request: `lookupStale(request)` finds the
 * route's entry for this request even when it is no longer fresh (kept for `grace`), and
 * `replyFromCache` answers with it. The resilience layer calls these when the upstream fails:
 *
 *   const stale = await lookupStale(request);
 *   if (stale) return replyFromCache(request, reply, stale, 'STALE');
 *
 * Both are no-ops (undefined) on routes without the cache plugin and for non-GET/HEAD requests.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ageOf, type CachedResponse } from './entry.js';
import type { CacheStore } from './store.js';

export interface CacheRequestState {
  readonly key: string;
  readonly store: CacheStore;
  /** The response was answered from the cache: nothing to capture. */
  served: boolean;
}

const states = new WeakMap<FastifyRequest, CacheRequestState>();

export function attachCacheState(request: FastifyRequest, state: CacheRequestState): void {
  states.set(request, state);
}

export function cacheStateOf(request: FastifyRequest): CacheRequestState | undefined {
  return states.get(request);
}

/** This request's cached response, fresh or stale (within grace); undefined when none or uncached route. */
export async function lookupStale(request: FastifyRequest): Promise<CachedResponse | undefined> {
  const s = states.get(request);
  if (!s) return undefined;
  return (await s.store.get(s.key)) ?? undefined;
}

/** Answers with a cached response: its status and headers, `Age`, `x-cache`, and this request's x-request-id. */
export function replyFromCache(request: FastifyRequest, reply: FastifyReply, entry: CachedResponse, label: 'HIT' | 'STALE'): FastifyReply {
  const s = states.get(request);
  if (s) s.served = true;
  reply.code(entry.status);
  for (const [name, value] of entry.headers) reply.header(name, value);
  reply.header('age', String(ageOf(entry, Date.now())));
  reply.header('x-cache', label);
  reply.header('x-request-id', request.id);
  if (request.method === 'HEAD') return reply.send('');
  // A stream, so Fastify adds no content-type the upstream did not send.
  reply.header('content-length', String(entry.body.length));
  return reply.send(Readable.from([entry.body]));
}
