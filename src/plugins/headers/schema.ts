import { Type, type Static } from '@sinclair/typebox';

const HeaderName = Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', errorMessage: 'must be a header name' });

export const HeaderOps = Type.Object(
  {
    set: Type.Record(Type.String(), Type.String(), { default: {} }),
    add: Type.Record(Type.String(), Type.String(), { default: {} }),
    remove: Type.Array(HeaderName, { default: [] }),
    rename: Type.Record(Type.String(), HeaderName, { default: {} }),
  },
  { additionalProperties: false, default: {} },
);

export const HeadersConfig = Type.Object(
  { request: HeaderOps, response: HeaderOps },
  { additionalProperties: false },
);
export type HeadersConfig = Static<typeof HeadersConfig>;
