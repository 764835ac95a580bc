/**
 * Where a credential is read from: a header (`Authorization: Bearer` or a named one), a cookie,
 * or a query parameter. A credential found in the query is always cut from the URL, so it is
 * neither forwarded nor written to the access log; header and cookie credentials are removed
 * before forwarding when the plugin's `hideCredentials` is on.
 */
import type { FastifyRequest } from 'fastify';

export interface CredentialSourceOptions {
  /** Read `Authorization: Bearer <token>`. */
  readonly bearer?: boolean;
  /** A header holding the credential verbatim (api-key). */
  readonly header?: string;
  readonly cookie?: string;
  readonly query?: string;
}

export interface FoundCredential {
  readonly value: string;
  readonly from: 'bearer' | 'header' | 'cookie' | 'query';
}

export interface CredentialSource {
  /** The credential, or undefined when none was sent. The query copy is removed from the URL either way. */
  take(request: FastifyRequest): FoundCredential | undefined;
  /** Removes the credential the request carried from what is forwarded upstream. */
  hide(request: FastifyRequest, found: FoundCredential): void;
}

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    return v;
  }
  return undefined;
}

function withoutCookie(header: string, name: string): string {
  return header
    .split(';')
    .filter((part) => {
      const eq = part.indexOf('=');
      return (eq === -1 ? part : part.slice(0, eq)).trim() !== name;
    })
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .join('; ');
}

/** Splits `name` out of a raw query string; returns the first value (decoded) and the remaining query. */
function splitQuery(query: string, name: string): { value?: string; rest: string } {
  let value: string | undefined;
  const kept: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    let key: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    } catch {
      key = rawKey;
    }
    if (key !== name) {
      kept.push(pair);
      continue;
    }
    if (value === undefined) {
      const raw = eq === -1 ? '' : pair.slice(eq + 1);
      try {
        value = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        value = raw;
      }
    }
  }
  return { value, rest: kept.join('&') };
}

export function credentialSource(options: CredentialSourceOptions): CredentialSource {
  const header = options.header?.toLowerCase();
  const { bearer, cookie, query } = options;

  function fromQuery(request: FastifyRequest): string | undefined {
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    if (q === -1) return undefined;
    const { value, rest } = splitQuery(url.slice(q + 1), query!);
    if (value === undefined) return undefined;
    request.raw.url = rest === '' ? url.slice(0, q) : `${url.slice(0, q)}?${rest}`;
    return value;
  }

  return {
    take(request) {
      // Always cut the query copy first, so it never reaches the upstream or the logs.
      const q = query ? fromQuery(request) : undefined;
      const h = request.headers;
      if (bearer) {
        const auth = h.authorization;
        if (typeof auth === 'string' && auth !== '') {
          const m = BEARER.exec(auth);
          // An Authorization header of another scheme is not our credential; a malformed Bearer is an empty one.
          if (m) return { value: m[1]!, from: 'bearer' };
          if (/^Bearer\b/i.test(auth)) return { value: '', from: 'bearer' };
        }
      }
      if (header) {
        const v = h[header];
        if (typeof v === 'string' && v !== '') return { value: v, from: 'header' };
        if (Array.isArray(v)) return { value: v.join(', '), from: 'header' };
      }
      if (cookie) {
        const v = cookieValue(h.cookie, cookie);
        if (v !== undefined && v !== '') return { value: v, from: 'cookie' };
      }
      if (q !== undefined && q !== '') return { value: q, from: 'query' };
      return undefined;
    },
    hide(request, found) {
      const h = request.headers;
      switch (found.from) {
        case 'bearer':
          delete h.authorization;
          break;
        case 'header':
          delete h[header!];
          break;
        case 'cookie': {
          const rest = withoutCookie(h.cookie ?? '', cookie!);
          if (rest === '') delete h.cookie;
          else h.cookie = rest;
          break;
        }
        case 'query':
          break; // already cut from the URL by take()
      }
    },
  };
}
