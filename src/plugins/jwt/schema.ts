import { Type, type StaticDecode } from '@sinclair/typebox';
import { authCommon } from '../../auth/schema-parts.js';
import { ALL_ALGORITHMS } from '../../auth/key-algorithms.js';
import { Duration } from '../../config/schema.js';

const StringOrList = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
  errorMessage: 'must be a string or a list of strings',
});

export const Algorithm = Type.Union(
  ALL_ALGORITHMS.map((a) => Type.Literal(a)),
  { errorMessage: `must be one of ${ALL_ALGORITHMS.join(', ')} ("none" is never accepted)` },
);

export const JwtConfig = Type.Object(
  {
    /** HMAC secret (UTF-8 bytes) for HS256/384/512. */
    secret: Type.Optional(Type.String({ minLength: 1 })),
    /** PEM public key or certificate (RSA, EC, Ed25519/Ed448). */
    publicKey: Type.Optional(Type.String({ minLength: 1 })),
    /** File holding the PEM, relative to the config file. */
    publicKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** The identity provider's JSON Web Key Set. */
    jwksUri: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', errorMessage: 'must be an http:// or https:// URL' })),
    jwks: Type.Object(
      {
        /** Least time between two fetches caused by unknown kids. */
        cooldown: Duration({ default: '30s' }),
        /** Keys older than this are refetched in the background. */
        refresh: Duration({ default: '10m' }),
        /** Whole-fetch timeout. */
        timeout: Duration({ default: '5s' }),
      },
      { additionalProperties: false, default: {} },
    ),
    issuer: Type.Optional(StringOrList),
    audience: Type.Optional(StringOrList),
    algorithms: Type.Optional(Type.Array(Algorithm, { minItems: 1, uniqueItems: true })),
    clockTolerance: Duration({ default: 0 }),
    /** Claims that must be present (403 when one is missing). */
    requiredClaims: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** The claim naming the consumer (for rate limits, logs and `{consumer}`). */
    consumerClaim: Type.String({ minLength: 1, default: 'sub' }),
    /** Verified tokens remembered (until their exp) to skip repeated signature checks; 0 = off. */
    cacheSize: Type.Integer({ minimum: 0, default: 1000 }),
    ...authCommon,
  },
  { additionalProperties: false },
);
export type JwtConfig = StaticDecode<typeof JwtConfig>;
