/**
 * Request-target normalisation, done once before routing so that every route (and its auth)
 * sees the same path the upstream will: unreserved percent-escapes decoded, dot segments
 * resolved, repeated slashes folded. Targets that cannot be made safe are refused.
 */

export type Normalized = { ok: true; url: string; path: string; query: string } | { ok: false; reason: string };

// Anything that may need work: escapes, dots, doubled slashes, backslashes, control bytes.
const NEEDS_WORK = /[%.\\\x00-\x20\x7f]|\/\//;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

function decodeUnreserved(path: string): string | undefined {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    const code = parseInt(hex, 16);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return undefined; // NUL and controls, backslash
    const ch = String.fromCharCode(code);
    out += code < 0x80 && UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

function resolveDots(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '') {
      if (last) out.push('');
      continue;
    }
    if (s === '..') {
      out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(s);
  }
  return `/${out.join('/')}`;
}

/** Normalises a request target (origin-form or absolute-form). */
export function normalizeTarget(target: string): Normalized {
  let raw = target;
  if (raw[0] !== '/') {
    // absolute-form (GET http://host/path): route by its path, never dial its host.
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(raw);
    if (!m) return { ok: false, reason: 'request target must be a path' };
    raw = m[1] || '/';
    if (raw[0] !== '/') raw = `/${raw}`;
  }
  const q = raw.indexOf('?');
  let path = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);
  const hash = path.indexOf('#');
  if (hash !== -1) path = path.slice(0, hash);
  if (/[\x00-\x1f\x7f]/.test(query)) return { ok: false, reason: 'control characters in the query' };
  if (!NEEDS_WORK.test(path)) {
    const url = raw === target && hash === -1 ? target : q === -1 ? path : `${path}?${query}`;
    return { ok: true, url, path, query };
  }
  if (/[\x00-\x20\x7f\\]/.test(path)) return { ok: false, reason: 'the path holds a backslash, space or control character' };
  const decoded = decodeUnreserved(path);
  if (decoded === undefined) return { ok: false, reason: 'the path holds a bad, NUL, control or backslash percent-escape' };
  const collapsed = decoded.replace(/\/{2,}/g, '/');
  const resolved = collapsed.includes('.') ? resolveDots(collapsed) : collapsed;
  return { ok: true, url: q === -1 ? resolved : `${resolved}?${query}`, path: resolved, query };
}
