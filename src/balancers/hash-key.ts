/**
 * `hashKey` of a service: which part of a request keys the consistent-hash ring.
 * Forms: ip | path | header:NAME | cookie:NAME | query:NAME | jwt:CLAIM.
 */
import type { CallerRequest } from '../request-state.js';
import '../request-state.js';

export const HASH_KEY_PATTERN = '^(ip|path|(header|cookie|query|jwt):[^\\s]+)$';
export const HASH_KEY_HINT = 'must be ip, path, header:NAME, cookie:NAME, query:NAME or jwt:CLAIM';

export type HashKeyOf = (request: CallerRequest) => string | undefined;

function first(v: unknown): string | undefined {
  if (Array.isArray(v)) return first(v[0]);
  if (v === undefined || v === null || v === '') return undefined;
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      const value = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

function queryParam(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  return first(new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined);
}

/** The key extractor for a (schema-valid) hashKey; undefined from it means "this request has no key". */
export function hashKeyOf(spec: string): HashKeyOf {
  if (spec === 'ip') return (r) => r.ip;
  if (spec === 'path') {
    return (r) => {
      const q = r.url.indexOf('?');
      return q === -1 ? r.url : r.url.slice(0, q);
    };
  }
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  switch (kind) {
    case 'header': {
      const lower = name.toLowerCase();
      return (r) => first(r.headers[lower]);
    }
    case 'cookie':
      return (r) => cookie(r.headers.cookie, name);
    case 'query':
      return (r) => queryParam(r.url, name);
    case 'jwt':
      return (r) => first(r.gatehouse?.jwt?.[name]);
    default:
      throw new Error(`hashKey ${spec}: ${HASH_KEY_HINT}`);
  }
}
