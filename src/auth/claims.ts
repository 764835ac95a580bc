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

/** A claim as a header value: strings as-is, lists comma-joined, objects as JSON; never CR, LF or NUL. */
export function claimText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.replace(/[\r\n\0]/g, '');
}

/** The consumer name a claim gives, when it is a non-empty string or number. */
export function consumerFrom(claims: Readonly<Record<string, unknown>>, claim: string): string | undefined {
  const v = claimAt(claims, claim);
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
