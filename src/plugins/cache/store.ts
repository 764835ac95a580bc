/** Where cached responses live: Redis when configured, memory otherwise. */
import { redisErrors } from '../../observability/metrics.js';
import type { SharedRedis } from '../../redis/shared-redis.js';
import { decodeEntry, encodeEntry, type CachedResponse } from './entry.js';

export interface CacheStore {
  /** The entry (fresh or stale, within grace), or null; never throws (a failing Redis is a miss). */
  get(key: string): Promise<CachedResponse | null>;
  /** Keeps the entry for keepMs (freshness + grace); never throws. */
  set(key: string, entry: CachedResponse, keepMs: number): Promise<void>;
}

interface Held {
  entry: CachedResponse;
  until: number;
}

/** An LRU bounded by total body bytes. */
class MemoryCache implements CacheStore {
  private readonly map = new Map<string, Held>();
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}

  async get(key: string): Promise<CachedResponse | null> {
    const held = this.map.get(key);
    if (!held) return null;
    this.map.delete(key);
    if (held.until <= Date.now()) {
      this.bytes -= held.entry.body.length;
      return null;
    }
    this.map.set(key, held);
    return held.entry;
  }

  async set(key: string, entry: CachedResponse, keepMs: number): Promise<void> {
    const prior = this.map.get(key);
    if (prior) {
      this.map.delete(key);
      this.bytes -= prior.entry.body.length;
    }
    if (entry.body.length > this.maxBytes) return;
    this.map.set(key, { entry, until: Date.now() + keepMs });
    this.bytes += entry.body.length;
    for (const [k, held] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= held.entry.body.length;
    }
  }
}

const memoryCaches = new Map<string, MemoryCache>();

/** One memory cache per route (kept across config reloads). */
export function memoryCacheStore(routeId: string, maxBytes: number): CacheStore {
  const id = `${routeId}\u0000${maxBytes}`;
  let c = memoryCaches.get(id);
  if (!c) memoryCaches.set(id, (c = new MemoryCache(maxBytes)));
  return c;
}

/** Entries at `keyPrefix{routeId:hash}:cache`, as one binary value with a PX expiry. */
export function redisCacheStore(redis: SharedRedis, routeId: string): CacheStore {
  const keyOf = (key: string) => redis.key(`${routeId}:${key}`, ':cache');
  return {
    async get(key) {
      try {
        const buf = await redis.getBuffer(keyOf(key));
        return buf ? decodeEntry(buf) : null;
      } catch {
        redisErrors.inc({ component: 'cache' });
        return null;
      }
    },
    async set(key, entry, keepMs) {
      try {
        await redis.set(keyOf(key), encodeEntry(entry), keepMs);
      } catch {
        // The next request is a miss; the connection logs the outage.
        redisErrors.inc({ component: 'cache' });
      }
    },
  };
}
