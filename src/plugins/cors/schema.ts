import { Type, type StaticDecode } from '@sinclair/typebox';
import { Duration, Method } from '../../config/schema.js';

const HeaderName = Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', errorMessage: 'must be a header name' });

export const CorsConfig = Type.Object(
  {
    /** Exact origins (https://app.example.com), `*`, wildcard subdomains (https://*.example.com) or /regex/flags. */
    origins: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    methods: Type.Array(Method, { default: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], minItems: 1, uniqueItems: true }),
    /** Request headers a preflight may allow; absent: whatever the preflight asks for. */
    headers: Type.Optional(Type.Array(HeaderName, { uniqueItems: true })),
    /** Response headers scripts may read beyond the CORS-safelisted ones. */
    exposeHeaders: Type.Array(HeaderName, { default: [], uniqueItems: true }),
    credentials: Type.Boolean({ default: false }),
    /** How long browsers may cache a preflight answer (Access-Control-Max-Age, in seconds on the wire). */
    maxAge: Type.Optional(Duration()),
  },
  { additionalProperties: false },
);
export type CorsConfig = StaticDecode<typeof CorsConfig>;
