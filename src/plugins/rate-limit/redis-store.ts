/**
 * Counters in Redis, shared by every worker and gateway instance. Each hit is one Lua
 * script on one key, so it is atomic; the key is `keyPrefix{routeId:key}:rl-ALGORITHM`,
 * hash-tagged so each limit lives on one Redis Cluster shard. Time comes from Redis (TIME),
 * so instances with skewed clocks still agree on windows.
 */
import { randomBytes } from 'node:crypto';
import type { SharedRedis } from '../../redis/shared-redis.js';
import type { Clock, LimitPolicy, LimitStore, Verdict } from './store.js';

const NOW = `
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** Windows aligned to the clock; one hash {w = window number, c = count}. Returns {allowed, remaining, resetMs}. */
export const FIXED_WINDOW_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
${NOW}
local w = math.floor(now / window)
if redis.call('HGET', KEYS[1], 'w') ~= tostring(w) then
  redis.call('HSET', KEYS[1], 'w', tostring(w), 'c', 0)
end
local c = redis.call('HINCRBY', KEYS[1], 'c', 1)
local reset = (w + 1) * window - now
-- Kept one window longer than needed: harmless (the next window resets it), and robust to clock skew.
redis.call('PEXPIRE', KEYS[1], reset + window)
if c > limit then return {0, 0, reset} end
return {1, limit - c, reset}
`;

/**
 * An exact sliding log in a sorted set (score = time of an accepted request). A request
 * passes only if fewer than \`limit\` were accepted in the last \`window\`, so no window of
 * that length, wherever it starts, ever holds more than \`limit\`. Refused requests are not logged.
 */
export const SLIDING_WINDOW_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[4])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local reset = window
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, limit - count, reset}
`;

export function redisKeyFor(redis: SharedRedis, routeId: string, key: string, policy: LimitPolicy): string {
  return redis.key(`${routeId}:${key}`, policy.algorithm === 'sliding-window' ? ':rl-sliding' : ':rl-fixed');
}

export function redisStore(redis: SharedRedis, routeId: string, policy: LimitPolicy, now?: Clock): LimitStore {
  const script = policy.algorithm === 'sliding-window' ? SLIDING_WINDOW_LUA : FIXED_WINDOW_LUA;
  let seq = 0;
  const nonce = randomBytes(6).toString('base64url');
  return {
    async hit(key: string): Promise<Verdict> {
      const member = `${nonce}${(seq = (seq + 1) % 1e9)}`;
      const out = (await redis.eval(script, [redisKeyFor(redis, routeId, key, policy)], [policy.limit, policy.windowMs, now ? now() : '', member])) as [number, number, number];
      return { allowed: out[0] === 1, remaining: Math.max(0, out[1]), resetMs: Math.max(0, out[2]) };
    },
  };
}
