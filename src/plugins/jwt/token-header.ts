/** The JOSE header of a compact JWS, read before any crypto so the key and algorithm can be chosen. */

export interface JoseHeader {
  readonly alg: string;
  readonly kid?: string;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** The header, or why the token is not a compact JWS (three base64url segments, a JSON object header). */
export function readHeader(token: string): JoseHeader | { error: string } {
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  if (first <= 0 || first === last || token.indexOf('.', first + 1) !== last) return { error: 'the token is not a signed JWT (header.payload.signature)' };
  if (last === token.length - 1) return { error: 'the token has no signature' };
  const head = token.slice(0, first);
  const known = seen.get(head);
  if (known !== undefined) return known;
  const read = parseHeader(head);
  if (!('error' in read)) {
    if (seen.size >= SEEN_MAX) seen.clear();
    seen.set(head, read);
  }
  return read;
}

/**
 * Headers already read, by their base64url text: a gateway sees few distinct ones (one per
 * algorithm and key id), so most tokens skip the decode and JSON parse. Bounded: a flood of
 * made-up headers only empties it.
 */
const seen = new Map<string, JoseHeader>();
const SEEN_MAX = 256;

function parseHeader(head: string): JoseHeader | { error: string } {
  if (!SEGMENT.test(head)) return { error: 'the token header is not base64url' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
  } catch {
    return { error: 'the token header is not JSON' };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: 'the token header is not a JSON object' };
  const { alg, kid } = parsed as { alg?: unknown; kid?: unknown };
  if (typeof alg !== 'string') return { error: 'the token header has no alg' };
  if (kid !== undefined && typeof kid !== 'string') return { error: 'the token header kid is not a string' };
  return kid === undefined ? { alg } : { alg, kid };
}
