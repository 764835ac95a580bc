/**
 * `rate-limit`: `limit` requests per `window`, per bucket (`by`), counted in Redis when
 * `redis` is configured (shared by every worker and instance), in memory otherwise.
 * Sends RateLimit-Limit / -Remaining / -Reset on every response of the route; a refused
 * request gets 429 RATE_LIMITED with Retry-After. While Redis is unavailable, `redis.onError`
 * decides: allow (pass, no headers) or deny (503 RATE_LIMIT_UNAVAILABLE).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../../errors.js';
import { redisErrors } from '../../observability/metrics.js';
import { definePlugin, headersOnly } from '../define.js';
import { compileKey } from './limit-key.js';
import { memoryStore } from './memory-store.js';
import { redisStore } from './redis-store.js';
import { RateLimitConfig } from './schema.js';
import type { LimitPolicy, Verdict } from './store.js';

const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));

/** 3600000 -> "1h", 90000 -> "90s", 250 -> "250ms": how the window reads in a 429's detail. */
function formatWindow(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export default definePlugin({
  name: 'rate-limit',
  description: 'limits requests per window by ip, route, header, jwt claim or consumer (429 RATE_LIMITED)',
  config: RateLimitConfig,
  create(config, ctx) {
    const policy: LimitPolicy = { limit: config.limit, windowMs: Math.max(1, config.window), algorithm: config.algorithm };
    const store = ctx.redis ? redisStore(ctx.redis, ctx.route.id, policy) : memoryStore(ctx.route.id, policy);
    const onError = ctx.redis?.onError ?? 'allow';
    const keyOf = compileKey(config.by);
    const limit = String(config.limit);
    const per = formatWindow(policy.windowMs);
    const verdicts = new WeakMap<FastifyRequest, Verdict>();

    const setHeaders = (reply: FastifyReply, v: Verdict) => {
      reply.header('ratelimit-limit', limit);
      reply.header('ratelimit-remaining', String(v.remaining));
      reply.header('ratelimit-reset', String(seconds(v.resetMs)));
    };

    return {
      async onRequest(request, reply) {
        let v: Verdict;
        try {
          v = await store.hit(keyOf(request));
        } catch (err) {
          redisErrors.inc({ component: 'rate-limit' });
          if (onError === 'allow') return;
          request.log.warn({ err: (err as Error).message }, 'rate limit store unavailable; refusing (redis.onError: deny)');
          return sendProblem(request, reply, 'RATE_LIMIT_UNAVAILABLE', 'the rate limit cannot be checked right now; try again shortly', {
            headers: { 'retry-after': '1' },
          });
        }
        // The RateLimit-* headers are set in onSend, which runs for every reply of the route (a
        // 429 from here included), after the upstream's own are in: they are never replaced.
        verdicts.set(request, v);
        if (!v.allowed) {
          const wait = String(Math.max(1, seconds(v.resetMs)));
          return sendProblem(request, reply, 'RATE_LIMITED', `limit of ${config.limit} requests per ${per} reached; retry in ${wait}s`, {
            headers: { 'retry-after': wait },
          });
        }
      },
      onSend: headersOnly(async (request, reply, payload) => {
        const v = verdicts.get(request);
        if (v) setHeaders(reply, v);
        return payload;
      }),
    };
  },
});
