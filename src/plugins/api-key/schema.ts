import { Type, type StaticDecode } from '@sinclair/typebox';
import { HeaderName, ParamName } from '../../auth/schema-parts.js';

export const ApiKeyEntry = Type.Object(
  {
    /** Who the key belongs to: `{consumer}` and rate-limit `by: consumer`. */
    consumer: Type.String({ minLength: 1 }),
    /** Hex sha256 of the key, as `gatehouse hash-key KEY` prints it. */
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', errorMessage: 'must be 64 hex digits (run: npx gatehouse hash-key KEY)' }),
  },
  { additionalProperties: false },
);

export const ApiKeyConfig = Type.Object(
  {
    /** Header carrying the key; false to not read one. */
    header: Type.Union([HeaderName, Type.Literal(false)], { default: 'x-api-key', errorMessage: 'must be a header name or false' }),
    /** Query parameter carrying the key (always cut from the forwarded URL); false to not read one. */
    query: Type.Union([ParamName, Type.Literal(false)], { default: 'api_key', errorMessage: 'must be a parameter name or false' }),
    keys: Type.Array(ApiKeyEntry, { minItems: 1 }),
    /** Remove the key header before forwarding (the upstream learns the consumer, not the key). */
    hideCredentials: Type.Boolean({ default: true }),
    realm: Type.String({ default: 'gatehouse', pattern: '^[\\x20-\\x7e]*$', errorMessage: 'must be printable ASCII' }),
  },
  { additionalProperties: false },
);
export type ApiKeyConfig = StaticDecode<typeof ApiKeyConfig>;
