/** Whether a response may be stored by a shared cache, and for how long (RFC 9111, the parts a gateway needs). */

/** Cacheable by default (RFC 9110 15.1), when fresh. */
const CACHEABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 410]);

export type Directives = Map<string, string | true>;

export function parseCacheControl(value: string | string[] | number | undefined): Directives {
  const out: Directives = new Map();
  if (value === undefined) return out;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!name) continue;
    const raw = eq === -1 ? true : part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (!out.has(name)) out.set(name, raw);
  }
  return out;
}

function seconds(v: string | true | undefined): number | undefined {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

export type Storable = { store: false; reason: string } | { store: true; freshMs: number; shared: boolean };

export interface ResponseFacts {
  status: number;
  cacheControl: string | string[] | number | undefined;
  vary: string | string[] | number | undefined;
  setCookie: boolean;
  age: string | string[] | number | undefined;
  /** The request carried Authorization. */
  authorized: boolean;
}

/** `varyAllowed`: lower-case header names the cache key includes. */
export function storable(r: ResponseFacts, defaultTtlMs: number, varyAllowed: ReadonlySet<string>): Storable {
  if (!CACHEABLE_STATUS.has(r.status)) return { store: false, reason: `status ${r.status}` };
  const cc = parseCacheControl(r.cacheControl);
  if (cc.has('no-store')) return { store: false, reason: 'no-store' };
  if (cc.has('private')) return { store: false, reason: 'private' };
  if (cc.has('no-cache')) return { store: false, reason: 'no-cache' };
  if (r.setCookie) return { store: false, reason: 'set-cookie' };
  const shared = cc.has('public') || cc.has('s-maxage');
  if (r.authorized && !shared) return { store: false, reason: 'authorized request without public or s-maxage' };
  if (r.vary !== undefined) {
    const names = (Array.isArray(r.vary) ? r.vary.join(',') : String(r.vary)).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    for (const n of names) {
      if (n === '*' || !varyAllowed.has(n)) return { store: false, reason: `Vary: ${n} is not in the cache key` };
    }
  }
  const explicit = seconds(cc.get('s-maxage')) ?? seconds(cc.get('max-age'));
  const ageSec = seconds(Array.isArray(r.age) ? r.age[0] : r.age === undefined ? undefined : String(r.age)) ?? 0;
  const freshMs = (explicit !== undefined ? explicit * 1000 : defaultTtlMs) - ageSec * 1000;
  if (freshMs <= 0) return { store: false, reason: 'not fresh' };
  return { store: true, freshMs, shared };
}

/** The request asks not to be served from cache (no-cache, Pragma: no-cache) or not to be stored (no-store). */
export function requestDirectives(cacheControl: string | string[] | undefined, pragma: string | string[] | undefined): { lookup: boolean; store: boolean } {
  const cc = parseCacheControl(cacheControl);
  const noStore = cc.has('no-store');
  const noCache = noStore || cc.has('no-cache') || cc.get('max-age') === '0' || /no-cache/i.test(String(pragma ?? ''));
  return { lookup: !noCache, store: !noStore };
}
