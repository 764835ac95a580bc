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
  const head = token.slice(0, first);
  if (!SEGMENT.test(head)) return { error: 'the token header is not base64url' };
  if (last === token.length - 1) return { error: 'the token has no signature' };
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
