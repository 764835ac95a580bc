/** Scopes a token grants: the `scope` string (RFC 8693 4.2, RFC 7662) or the `scp` list some IdPs send. */

export function grantedScopes(claims: Readonly<Record<string, unknown>>): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string') {
      for (const s of v.split(' ')) if (s !== '') out.add(s);
    } else if (Array.isArray(v)) {
      for (const s of v) if (typeof s === 'string' && s !== '') out.add(s);
    }
  };
  add(claims.scope);
  add(claims.scp);
  return out;
}

/** The required scopes the claims do not grant (all are required). */
export function missingScopes(claims: Readonly<Record<string, unknown>>, required: readonly string[]): string[] {
  if (required.length === 0) return [];
  const granted = grantedScopes(claims);
  return required.filter((s) => !granted.has(s));
}
