/**
 * Counters in Redis, shared by every worker and gateway instance. A batch of hits on one key
 * (those of one turn of the event loop, or those that waited for the key's call in flight:
 * hit-batch.ts) is one Lua script call that counts them all atomically and answers what each
 * one sees, in order; the key is `keyPrefix{routeId:key}:rl-ALGORITHM`, hash-tagged so each
 * limit lives on one Redis Cluster shard. Time comes from Redis (TIME), so instances with
 * skewed clocks still agree on windows.
 */
import { randomBytes } from 'node:crypto';
import type { SharedRedis } from '../../redis/shared-redis.js';
import { batchedHits } from './hit-batch.js';
import type { Clock, LimitPolicy, LimitStore, Verdict } from './store.js';

const NOW = `
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Windows aligned to the clock; one hash {w = window number, c = count}. Counts ARGV[5] hits
 * (refused ones too, as a fixed window does) and returns {count after them, resetMs}.
 */
export const FIXED_WINDOW_LUA = `
local window = tonumber(ARGV[2])
local n = tonumber(ARGV[5]) or 1
${NOW}
local w = math.floor(now / window)
if redis.call('HGET', KEYS[1], 'w') ~= tostring(w) then
  redis.call('HSET', KEYS[1], 'w', tostring(w), 'c', 0)
end
local c = redis.call('HINCRBY', KEYS[1], 'c', n)
local reset = (w + 1) * window - now
-- Kept one window longer than needed: harmless (the next window resets it), and robust to clock skew.
redis.call('PEXPIRE', KEYS[1], reset + window)
return {c, reset}
`;

/**
 * An exact sliding log in a sorted set (score = time of an accepted request). A request
 * passes only if fewer than \`limit\` were accepted in the last \`window\`, so no window of
 * that length, wherever it starts, ever holds more than \`limit\`. Refused requests are not logged.
 * Of ARGV[5] hits, as many as fit are logged; returns {count before them, accepted, resetMs}.
 */
export const SLIDING_WINDOW_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local n = tonumber(ARGV[5]) or 1
${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local accepted = math.min(n, math.max(0, limit - count))
if accepted > 0 then
  local entries = {}
  for i = 1, accepted do
    entries[2 * i - 1] = now
    entries[2 * i] = now .. '-' .. ARGV[4] .. '-' .. i
  end
  redis.call('ZADD', KEYS[1], unpack(entries))
end
redis.call('PEXPIRE', KEYS[1], window)
local reset = window
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {count, accepted, reset}
`;

export function redisKeyFor(redis: SharedRedis, routeId: string, key: string, policy: LimitPolicy): string {
  return redis.key(`${routeId}:${key}`, policy.algorithm === 'sliding-window' ? ':rl-sliding' : ':rl-fixed');
}

/** Verdicts of `n` hits counted by FIXED_WINDOW_LUA, which answered {count after them, resetMs}. */
export function fixedWindowVerdicts(limit: number, n: number, [after, reset]: readonly [number, number]): Verdict[] {
  const resetMs = Math.max(0, reset);
  const out: Verdict[] = [];
  for (let c = after - n + 1; c <= after; c++) out.push(c > limit ? { allowed: false, remaining: 0, resetMs } : { allowed: true, remaining: limit - c, resetMs });
  return out;
}

/** Verdicts of `n` hits counted by SLIDING_WINDOW_LUA, which answered {count before them, accepted, resetMs}. */
export function slidingWindowVerdicts(limit: number, n: number, [before, accepted, reset]: readonly [number, number, number]): Verdict[] {
  const resetMs = Math.max(0, reset);
  const out: Verdict[] = [];
  for (let i = 1; i <= n; i++) {
    out.push(i <= accepted ? { allowed: true, remaining: Math.max(0, limit - before - i), resetMs } : { allowed: false, remaining: Math.max(0, limit - before - accepted), resetMs });
  }
  return out;
}

export function redisStore(redis: SharedRedis, routeId: string, policy: LimitPolicy, now?: Clock): LimitStore {
  const sliding = policy.algorithm === 'sliding-window';
  const script = sliding ? SLIDING_WINDOW_LUA : FIXED_WINDOW_LUA;
  let seq = 0;
  const nonce = randomBytes(6).toString('base64url');
  const count = async (key: string, n: number): Promise<Verdict[]> => {
    const member = `${nonce}${(seq = (seq + 1) % 1e9)}`;
    const args = [policy.limit, policy.windowMs, now ? now() : '', member, n];
    const out = await redis.eval(script, [redisKeyFor(redis, routeId, key, policy)], args);
    return sliding ? slidingWindowVerdicts(policy.limit, n, out as [number, number, number]) : fixedWindowVerdicts(policy.limit, n, out as [number, number]);
  };
  return { hit: batchedHits(count) };
}
