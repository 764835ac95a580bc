import { Type, type Static } from '@sinclair/typebox';
import { Size } from '../../config/schema.js';

const DotPath = Type.String({ pattern: '^[^.]+(\\.[^.]+)*$', errorMessage: 'must be a dot path like a.b.c' });

export const BodyOps = Type.Object(
  {
    /** Keep only these paths (nesting kept: `b.c` gives `{ b: { c } }`); through arrays, per element. */
    select: Type.Optional(Type.Array(DotPath, { minItems: 1 })),
    /** Remove these paths. */
    omit: Type.Array(DotPath, { default: [] }),
    /** Move a value: `{ FROM: TO }`, both dot paths. */
    rename: Type.Record(Type.String(), DotPath, { default: {} }),
    /** Set paths to template strings (`{params.id}`, `{jwt.sub}`, `{header.x}`, ...). */
    set: Type.Record(Type.String(), Type.String(), { default: {} }),
    /** Put the whole body under this key. */
    wrap: Type.Optional(Type.String({ minLength: 1 })),
    /** Replace the body with the value at this dot path. */
    unwrap: Type.Optional(DotPath),
  },
  { additionalProperties: false, default: {} },
);
export type BodyOps = Static<typeof BodyOps>;

export const BodyConfig = Type.Object(
  {
    request: BodyOps,
    response: BodyOps,
    /** Convert XML↔JSON on this side: a JSON body becomes XML and an XML body becomes JSON. */
    xml: Type.Optional(Type.Union([Type.Literal('request'), Type.Literal('response'), Type.Literal('both')])),
    /** Root element for JSON turned into XML when the JSON is not a single-key object. */
    xmlRoot: Type.String({ minLength: 1, pattern: '^[A-Za-z_][\\w.-]*$', default: 'root' }),
    /** Largest body read into memory to be reshaped or converted. */
    maxSize: Size({ default: '1mb' }),
  },
  { additionalProperties: false },
);
export type BodyConfig = Static<typeof BodyConfig>;
