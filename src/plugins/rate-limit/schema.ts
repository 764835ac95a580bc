import { Type, type StaticDecode } from '@sinclair/typebox';
import { Duration } from '../../config/schema.js';

export const LIMIT_KEY_PATTERN = '^(ip|route|consumer|header:[A-Za-z0-9!#$%&\'*+.^_`|~-]+|jwt:[A-Za-z0-9_.:$-]+)$';
const LimitKey = Type.String({ pattern: LIMIT_KEY_PATTERN, errorMessage: 'must be ip, route, consumer, header:NAME or jwt:CLAIM' });

export const RateLimitConfig = Type.Object(
  {
    /** Requests allowed per window. */
    limit: Type.Integer({ minimum: 1, errorMessage: 'must be an integer >= 1' }),
    window: Duration({ default: '1m' }),
    /** What a bucket is per: one key, or a list combined into one key. */
    by: Type.Union([LimitKey, Type.Array(LimitKey, { minItems: 1, uniqueItems: true })], {
      default: 'ip',
      errorMessage: 'must be ip, route, consumer, header:NAME or jwt:CLAIM, or a list of them',
    }),
    algorithm: Type.Union([Type.Literal('fixed-window'), Type.Literal('sliding-window')], {
      default: 'fixed-window',
      errorMessage: 'must be fixed-window or sliding-window',
    }),
  },
  { additionalProperties: false },
);
export type RateLimitConfig = StaticDecode<typeof RateLimitConfig>;
export type Algorithm = RateLimitConfig['algorithm'];
