import { Type, type Static } from '@sinclair/typebox';
import { Size } from '../../config/schema.js';

export const DEFAULT_TYPES = [
  'text/*',
  'application/json',
  'application/*+json',
  'application/javascript',
  'application/xml',
  'application/*+xml',
  'image/svg+xml',
  'application/x-ndjson',
] as const;

export const CompressConfig = Type.Object(
  {
    /** Responses whose known size is below this go as they are. Streams of unknown size are compressed. */
    threshold: Size({ default: 1024 }),
    /** Content types to compress: exact (`application/json`) or with `*` (`text/*`, `application/*+json`). */
    types: Type.Array(Type.String({ minLength: 1, pattern: '^[A-Za-z0-9*!#$&^_.+-]+/[A-Za-z0-9*!#$&^_.+-]+$', errorMessage: 'must be a content type like text/* or application/json' }), {
      default: [...DEFAULT_TYPES],
    }),
    /** Encodings the gateway offers, preferred first when the client rates them equally. */
    encodings: Type.Array(Type.Union([Type.Literal('br'), Type.Literal('gzip')]), { default: ['br', 'gzip'], minItems: 1 }),
    /** zlib level for gzip (1-9). */
    gzipLevel: Type.Integer({ minimum: 1, maximum: 9, default: 6 }),
    /** Brotli quality (0-11); the default favours speed, as a gateway should. */
    brotliQuality: Type.Integer({ minimum: 0, maximum: 11, default: 4 }),
  },
  { additionalProperties: false },
);
export type CompressConfig = Static<typeof CompressConfig>;
