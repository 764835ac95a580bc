/**
 * `cache`: a response cache for GET and HEAD, in Redis when configured, in memory otherwise.
 * Honours the upstream's Cache-Control (no-store, private, no-cache, s-maxage, max-age) with
 * `ttl` as the default freshness; keyed by method + host + path + sorted query + `vary`
 * headers. Concurrent misses for one key in one gateway process make one upstream call; the
 * others wait for it and are served its response. Answers carry `x-cache: HIT|MISS` and, on
 * a HIT, `Age` and the current request's x-request-id. Lookups run in preHandler, after every
 * onRequest plugin (auth, ip-filter, rate-limit), so a HIT never skips them.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { definePlugin } from '../define.js';
import { compileCacheKey } from './cache-key.js';
import { requestDirectives, storable } from './cache-control.js';
import type { CachedResponse } from './entry.js';
import { CacheConfig } from './schema.js';
import { captureStream } from './capture.js';
import { attachCacheState, cacheStateOf, lookupStale, replyFromCache } from './stale.js';
import { offerStale } from '../../targets/stale-source.js';
import { pendingUpgrade } from '../../targets/websocket/pending-upgrade.js';
import { memoryCacheStore, redisCacheStore } from './store.js';

/** Response headers never stored: framing, per-request and per-client ones (those are set again per request). */
const NOT_STORED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'set-cookie',
  'x-request-id',
  'age',
  'x-cache',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'retry-after',
]);

function storedHeaders(reply: FastifyReply): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined || NOT_STORED.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, String(v)]);
    else out.push([name, String(value)]);
  }
  return out;
}

export default definePlugin({
  name: 'cache',
  description: 'caches GET/HEAD responses (x-cache: HIT|MISS), Redis or memory',
  config: CacheConfig,
  create(config, ctx) {
    const store = ctx.redis ? redisCacheStore(ctx.redis, ctx.route.id) : memoryCacheStore(ctx.route.id, config.maxSize);
    const keyOf = compileCacheKey(config.vary);
    const varyAllowed = new Set(config.vary.map((h) => h.toLowerCase()));
    /** Misses being fetched now, by key: followers wait for the leader's entry (null: fetch yourself). */
    const inflight = new Map<string, Promise<CachedResponse | null>>();
    /** Per leader request: how to hand its outcome to the followers. */
    const leaders = new WeakMap<FastifyRequest, (entry: CachedResponse | null) => void>();
    const mayStore = new WeakSet<FastifyRequest>();

    const save = (key: string, entry: CachedResponse) => {
      void store.set(key, entry, entry.freshUntil - Date.now() + config.grace);
    };

    return {
      async preHandler(request, reply) {
        if (request.method !== 'GET' && request.method !== 'HEAD') return;
        // A WebSocket upgrade is not a cacheable GET: never answered from (nor stored in) the cache.
        if (pendingUpgrade(request.raw)) return;
        const key = keyOf(request);
        const state = { key, store, served: false };
        attachCacheState(request, state);
        // For a route's `fallback: { cache: stale }`: the stored copy, even past its freshness (within grace).
        offerStale(request, async () => {
          const entry = await lookupStale(request);
          if (!entry) return undefined;
          state.served = true;
          return { status: entry.status, headers: Object.fromEntries(entry.headers), body: entry.body, storedAt: entry.storedAt };
        });
        const wants = requestDirectives(request.headers['cache-control'], request.headers.pragma);
        if (wants.store) mayStore.add(request);
        if (!wants.lookup) return;
        const authorized = request.headers.authorization !== undefined;
        const usable = (e: CachedResponse | null): e is CachedResponse => e !== null && (!authorized || e.shared);

        const found = await store.get(key);
        if (usable(found) && found.freshUntil > Date.now()) return replyFromCache(request, reply, found, 'HIT');

        const pending = inflight.get(key);
        if (pending) {
          const shared = await pending;
          if (usable(shared)) return replyFromCache(request, reply, shared, 'HIT');
          return;
        }
        let settle!: (entry: CachedResponse | null) => void;
        const outcome = new Promise<CachedResponse | null>((resolve) => {
          settle = (entry) => {
            if (inflight.get(key) === outcome) inflight.delete(key);
            resolve(entry);
          };
        });
        inflight.set(key, outcome);
        leaders.set(request, settle);
        // However the request ends (error, client gone), the followers are released.
        reply.raw.once('close', () => settle(null));
      },

      async onSend(request, reply, payload) {
        const state = cacheStateOf(request);
        if (!state || state.served) return payload;
        reply.header('x-cache', 'MISS');
        const settle = leaders.get(request) ?? (() => undefined);
        if (!mayStore.has(request)) {
          settle(null);
          return payload;
        }
        const decision = storable(
          {
            status: reply.statusCode,
            cacheControl: reply.getHeader('cache-control'),
            vary: reply.getHeader('vary'),
            setCookie: reply.hasHeader('set-cookie'),
            age: reply.getHeader('age'),
            authorized: request.headers.authorization !== undefined,
          },
          config.ttl,
          varyAllowed,
        );
        const declared = Number(reply.getHeader('content-length'));
        if (!decision.store || declared > config.maxEntrySize) {
          settle(null);
          return payload;
        }
        const now = Date.now();
        const ageMs = (Number(reply.getHeader('age')) || 0) * 1000;
        const base = { status: reply.statusCode, headers: storedHeaders(reply), storedAt: now - ageMs, freshUntil: now + decision.freshMs, shared: decision.shared };
        const finish = (body: Buffer | null) => {
          if (body === null) return settle(null);
          const entry: CachedResponse = { ...base, body };
          save(state.key, entry);
          settle(entry);
        };
        if (payload instanceof Readable) return captureStream(payload, config.maxEntrySize, finish);
        const body = payload === undefined || payload === null ? Buffer.alloc(0) : Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload));
        finish(body.length > config.maxEntrySize ? null : body);
        return payload;
      },
    };
  },
});
