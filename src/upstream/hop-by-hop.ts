/** Header filtering both ways: hop-by-hop headers (RFC 9110 7.6.1) and those named in Connection never cross. */
import type { IncomingHttpHeaders } from 'node:http';
import { util } from 'undici';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

type HeaderValue = string | string[] | undefined;

export function connectionTokens(value: HeaderValue): Set<string> | undefined {
  // The usual values name no header: no allocation for them on the hot path.
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const s = Array.isArray(value) ? value.join(',') : value;
  const tokens = s
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive');
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

/** Request headers the gateway controls itself and never copies from the client. */
const REQUEST_OWN = new Set(['host', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'content-length']);

/**
 * Deletes, in place, the client's headers that its Connection header names (they are hop-by-hop).
 * Done once when the request arrives, before any plugin runs, so a header a plugin sets later
 * (x-user-id from a JWT) reaches the upstream even if the client named it in Connection.
 */
export function dropConnectionNamed(headers: IncomingHttpHeaders): void {
  const named = connectionTokens(headers.connection);
  if (named) for (const name of named) delete headers[name];
}

export function requestHeadersToForward(incoming: IncomingHttpHeaders, dropForwarded: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || REQUEST_OWN.has(name) || name[0] === ':') continue;
    if (dropForwarded && name === 'forwarded') continue;
    const v = incoming[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

const RESPONSE_HIDDEN = ['server', 'x-powered-by'];

function responseDropList(keep: readonly string[], hide: readonly string[]): ReadonlySet<string> {
  const kept = new Set(keep.map((k) => k.toLowerCase()));
  return new Set([...HOP_BY_HOP, ...RESPONSE_HIDDEN.filter((h) => !kept.has(h)), ...hide.map((h) => h.toLowerCase())]);
}

/** A raw header list (name, value, name, value...): undici's bytes, or the own client's strings (names lower-cased). */
export type RawHeaders = readonly (Buffer | string)[];
type RawFilter = (raw: RawHeaders) => Record<string, string | string[]>;
type HeaderFilter = (headers: Record<string, HeaderValue>) => Record<string, string | string[]>;

/**
 * Filters are shared by the routes with the same keepHeaders/hideHeaders (most keep the
 * defaults): one per distinct pair in the process, not one per route.
 */
const rawFilters = new Map<string, RawFilter>();
const headerFilters = new Map<string, HeaderFilter>();
const filterKey = (keep: readonly string[], hide: readonly string[]) => JSON.stringify([keep.map((k) => k.toLowerCase()), hide.map((h) => h.toLowerCase())]);

/**
 * The same filter over undici's raw header list (name, value, name, value... as bytes): the
 * forwarded headers in one pass, repeated names (Set-Cookie) as arrays.
 */
export function rawResponseHeaderFilter(keep: readonly string[], hide: readonly string[] = []): RawFilter {
  return sharedFilter(rawFilters, keep, hide, makeRawFilter);
}

/** The filter for this keep/hide pair from `cache`, made on first use. */
function sharedFilter<F>(cache: Map<string, F>, keep: readonly string[], hide: readonly string[], make: (drop: ReadonlySet<string>) => F): F {
  const key = filterKey(keep, hide);
  let filter = cache.get(key);
  if (filter === undefined) cache.set(key, (filter = make(responseDropList(keep, hide))));
  return filter;
}

function makeRawFilter(drop: ReadonlySet<string>): RawFilter {
  return (raw) => {
    const seen: { connection?: string } = {};
    const out = collectRawHeaders(raw, drop, seen);
    const named = connectionTokens(seen.connection);
    if (named) for (const name of named) delete out[name];
    return out;
  };
}

/**
 * undici's raw header list (name, value, name, value... as bytes) as an object: names
 * lower-cased, repeated names (Set-Cookie) as arrays, those in `drop` left out. The Connection
 * header's value (joined when repeated) goes to `seen.connection`, dropped or not.
 */
export function collectRawHeaders(raw: RawHeaders, drop?: ReadonlySet<string>, seen?: { connection?: string }): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    // undici's lookup gives the well-known names as shared lower-case strings, with no decode.
    const n = raw[i]!;
    const name = typeof n === 'string' ? n : util.headerNameToString(n);
    if (seen && name === 'connection') {
      const v = raw[i + 1]!.toString('latin1');
      seen.connection = seen.connection === undefined ? v : `${seen.connection}, ${v}`;
    }
    if (drop?.has(name)) continue;
    const value = raw[i + 1]!.toString('latin1'); // a string's toString is itself
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = [prior, value];
  }
  return out;
}

/**
 * Builds the response-header filter of one route: `keep` lists default-hidden headers to keep,
 * `hide` more headers to remove.
 */
export function responseHeaderFilter(keep: readonly string[], hide: readonly string[] = []): HeaderFilter {
  return sharedFilter(headerFilters, keep, hide, makeHeaderFilter);
}

function makeHeaderFilter(drop: ReadonlySet<string>): HeaderFilter {
  return (headers) => {
    const named = connectionTokens(headers.connection);
    const out: Record<string, string | string[]> = {};
    for (const name in headers) {
      if (drop.has(name) || named?.has(name)) continue;
      const v = headers[name];
      if (v !== undefined) out[name] = v;
    }
    return out;
  };
}
