import { Type, type StaticDecode } from '@sinclair/typebox';
import { authCommon } from '../../auth/schema-parts.js';
import { Duration } from '../../config/schema.js';

export const OAuth2Config = Type.Object(
  {
    /** The RFC 7662 introspection endpoint. */
    introspectionUrl: Type.String({ pattern: '^https?://[^\\s]+$', errorMessage: 'must be an http:// or https:// URL' }),
    clientId: Type.String({ minLength: 1 }),
    clientSecret: Type.String({ minLength: 1 }),
    /** basic: HTTP Basic credentials; post: client_id and client_secret in the form body. */
    authMethod: Type.Union([Type.Literal('basic'), Type.Literal('post')], { default: 'basic', errorMessage: 'must be basic or post' }),
    /** Active answers are reused until the token's exp or this long, whichever comes first. */
    cacheTtl: Duration({ default: '60s' }),
    /** Inactive answers are reused this long (0 = ask every time). */
    inactiveCacheTtl: Duration({ default: '5s' }),
    /** Most answers remembered. */
    cacheSize: Type.Integer({ minimum: 0, default: 10000 }),
    /** Whole-call timeout of one introspection. */
    timeout: Duration({ default: '2s' }),
    /** When introspection fails (down, 5xx, timeout, garbage): unavailable = 503, deny = 401. Never let through. */
    onError: Type.Union([Type.Literal('unavailable'), Type.Literal('deny')], { default: 'unavailable', errorMessage: 'must be unavailable or deny' }),
    /** Sent as token_type_hint; empty = not sent. */
    tokenTypeHint: Type.String({ default: 'access_token' }),
    /** The answer's field naming the consumer. */
    consumerClaim: Type.String({ minLength: 1, default: 'client_id' }),
    ...authCommon,
  },
  { additionalProperties: false },
);
export type OAuth2Config = StaticDecode<typeof OAuth2Config>;
