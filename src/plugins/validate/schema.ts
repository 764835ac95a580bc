import { Type, type Static } from '@sinclair/typebox';
import { Size } from '../../config/schema.js';

/** A JSON Schema (draft 2020-12 keywords Ajv knows; checked when the route loads). */
const JsonSchema = Type.Union([Type.Boolean(), Type.Record(Type.String(), Type.Unknown())], { errorMessage: 'must be a JSON Schema (an object)' });

export const ValidateConfig = Type.Object(
  {
    query: Type.Optional(JsonSchema),
    params: Type.Optional(JsonSchema),
    headers: Type.Optional(JsonSchema),
    body: Type.Optional(JsonSchema),
    /** An OpenAPI 3 file (YAML or JSON), relative to the file that configures the plugin. */
    openapi: Type.Optional(Type.String({ minLength: 1 })),
    /** The operationId to check against; default: the operation at the route's path and method. */
    operation: Type.Optional(Type.String({ minLength: 1 })),
    /** Largest JSON body read for checking (413 PAYLOAD_TOO_LARGE past it). */
    maxBodySize: Size({ default: '1mb' }),
    /** Deepest nesting of objects and arrays allowed in a JSON body. */
    maxDepth: Type.Integer({ minimum: 1, default: 32 }),
    /** Longest array allowed anywhere in a JSON body. */
    maxArrayLength: Type.Integer({ minimum: 0, default: 10000 }),
  },
  { additionalProperties: false },
);
export type ValidateConfig = Static<typeof ValidateConfig>;
