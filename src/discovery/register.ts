/**
 * Keeps one target registered for redis discovery: ZADD of the member with score now+ttl,
 * repeated every ttl/3, and ZREM when stopped. `gatehouse register` is this on the command line.
 */
import { checkTargetUrl } from './target-url.js';
import { MAX_WEIGHT } from './target-value.js';
import { connectRedis, type RedisClient } from './redis-connect.js';

export interface RegisterOptions {
  /** A redis:// URL, or a client you own (it is left open on stop). */
  readonly redis: string | RedisClient;
  /** The sorted set the gateway's `discovery.redis.key` names. */
  readonly key: string;
  /** The target, e.g. http://10.0.0.5:3000. */
  readonly url: string;
  /** How long the entry lives without a heartbeat, in ms. */
  readonly ttl: number;
  readonly weight?: number;
  /** Told of heartbeats that failed (the next one tries again). */
  readonly onError?: (err: Error) => void;
}

export interface Registration {
  /** The sorted-set member written: the URL, or `{"url","weight"}` JSON when a weight is given. */
  readonly member: string;
  /** Removes the member and stops the heartbeat. */
  stop(): Promise<void>;
}

/** The member text for a target (the gateway reads either form). */
export function memberOf(url: string, weight?: number): string {
  return weight === undefined ? url : JSON.stringify({ url, weight });
}

/** Registers the target (resolves after the first ZADD succeeded) and keeps it registered until stop(). */
export async function registerTarget(options: RegisterOptions): Promise<Registration> {
  const parsed = new URL(options.url);
  const checked = checkTargetUrl(options.url, parsed.protocol.slice(0, -1));
  if (!checked.ok) throw new Error(checked.reason);
  if (!(options.ttl >= 1000)) throw new Error('ttl must be at least 1s');
  if (options.weight !== undefined && !(Number.isInteger(options.weight) && options.weight >= 1 && options.weight <= MAX_WEIGHT)) {
    throw new Error(`weight must be a whole number from 1 to ${MAX_WEIGHT}`);
  }
  const owned = typeof options.redis === 'string';
  const client = typeof options.redis === 'string' ? connectRedis({ url: options.redis, offlineQueue: true, connectionName: 'gatehouse-register' }) : options.redis;
  if (owned) client.on('error', () => undefined);
  const member = memberOf(checked.url, options.weight);

  const beat = async () => {
    const now = Date.now();
    await client.zadd(options.key, now + options.ttl, member);
    // Housekeeping: members whose heartbeat stopped long ago need not stay in the set.
    await client.zremrangebyscore(options.key, '-inf', now - options.ttl);
  };
  try {
    await beat();
  } catch (err) {
    if (owned) client.disconnect();
    throw err;
  }
  const timer = setInterval(() => {
    beat().catch((err: Error) => options.onError?.(err));
  }, Math.max(250, Math.floor(options.ttl / 3)));
  let stopping: Promise<void> | undefined;
  return {
    member,
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        try {
          await client.zrem(options.key, member);
        } finally {
          if (owned) client.disconnect();
        }
      })();
      return stopping;
    },
  };
}
