/** Config keys the auth plugins share, so they read the same in every plugin's schema. */
import { Type } from '@sinclair/typebox';
import { Size } from '../config/schema.js';

export const HeaderName = Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', errorMessage: 'must be a header name' });

export const ParamName = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s;=&]+$', errorMessage: 'must be a name without spaces, ;, = or &' });

export const authCommon = {
  /** Read the token from this cookie when there is no Authorization header. */
  cookie: Type.Optional(ParamName),
  /** Read the token from this query parameter when there is no header or cookie (always cut from the forwarded URL). */
  query: Type.Optional(ParamName),
  /** All of these scopes are required (from `scope` or `scp`); 403 otherwise. */
  scopes: Type.Array(Type.String({ minLength: 1, pattern: '^\\S+$', errorMessage: 'must be a scope without spaces' }), { default: [] }),
  /** Upstream request headers set from claims: `{ x-user-id: sub }`. */
  forward: Type.Record(HeaderName, Type.String({ minLength: 1 }), { default: {} }),
  /** Remove the credential (Authorization header or cookie) before forwarding. */
  hideCredentials: Type.Boolean({ default: false }),
  /** The realm of the WWW-Authenticate challenge. */
  realm: Type.String({ default: 'gatehouse', pattern: '^[\\x20-\\x7e]*$', errorMessage: 'must be printable ASCII' }),
  /** Tokens longer than this are refused (401) before any work is done on them. */
  maxTokenSize: Size({ default: '8kb' }),
};
