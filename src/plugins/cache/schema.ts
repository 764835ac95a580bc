import { Type, type StaticDecode } from '@sinclair/typebox';
import { Duration, Size } from '../../config/schema.js';

const HeaderName = Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', errorMessage: 'must be a header name' });

export const CacheConfig = Type.Object(
  {
    /** Freshness when the upstream's Cache-Control gives none (s-maxage / max-age win). */
    ttl: Duration({ default: '1m' }),
    /** Responses with a larger body are passed through, not stored. */
    maxEntrySize: Size({ default: '1mb' }),
    /** Request headers whose values are part of the cache key. */
    vary: Type.Array(HeaderName, { default: [], uniqueItems: true }),
    /** How long an expired entry is kept for stale fallback (x-cache: STALE) after it stops being fresh. */
    grace: Duration({ default: '1m' }),
    /** Memory store only: total body bytes kept for this route; the least recently used go first. */
    maxSize: Size({ default: '64mb' }),
  },
  { additionalProperties: false },
);
export type CacheConfig = StaticDecode<typeof CacheConfig>;
