/** One RFC 7662 introspection call: `POST token=...` with the client's credentials (basic or post). */
import { fetchJson } from '../../auth/fetch-json.js';
import type { OAuth2Config } from './schema.js';

export type Introspection =
  | { active: true; claims: Readonly<Record<string, unknown>>; exp?: number }
  | { active: false; reason: string }
  | { failed: string };

/** application/x-www-form-urlencoded, as RFC 6749 2.3.1 asks for client credentials in Basic. */
function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

export function introspector(config: OAuth2Config, now: () => number = Date.now): (token: string) => Promise<Introspection> {
  const { introspectionUrl, clientId, clientSecret, authMethod, timeout, tokenTypeHint } = config;
  const basic = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
  return async (token) => {
    const form = new URLSearchParams({ token });
    if (tokenTypeHint !== '') form.set('token_type_hint', tokenTypeHint);
    if (authMethod === 'post') {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    }
    const res = await fetchJson(introspectionUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authMethod === 'basic' ? { authorization: basic } : {}) },
      body: form.toString(),
      timeout,
      maxBytes: 256 * 1024,
    });
    if (!res.ok) return { failed: res.reason };
    const body = res.json;
    if (!body || typeof body !== 'object' || Array.isArray(body) || typeof (body as { active?: unknown }).active !== 'boolean') {
      return { failed: 'the answer is not an introspection response ({"active": ...})' };
    }
    const claims = body as Record<string, unknown>;
    if (claims.active !== true) return { active: false, reason: 'the token is not active' };
    const t = now();
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
    if (exp !== undefined && exp <= t) return { active: false, reason: 'the token has expired' };
    if (typeof claims.nbf === 'number' && claims.nbf * 1000 > t) return { active: false, reason: 'the token is not valid yet (nbf)' };
    return { active: true, claims, exp };
  };
}
