/** Reading claims by name (dotted for nested objects) and writing them as text for headers. */

export function claimAt(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(claims, name)) return claims[name];
  let v: unknown = claims;
  for (const k of name.split('.')) {
    if (!v || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * A claim as a header value: strings as-is, lists comma-joined, objects as JSON. Control
 * characters are dropped; non-ASCII text is sent as its UTF-8 bytes (a header carries octets).
 */
export function claimText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const clean = s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');
  return /[^\x00-\x7f]/.test(clean) ? Buffer.from(clean, 'utf8').toString('latin1') : clean;
}

/** The consumer name a claim gives, when it is a non-empty string or number. */
export function consumerFrom(claims: Readonly<Record<string, unknown>>, claim: string): string | undefined {
  const v = claimAt(claims, claim);
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
