/** Origin patterns: exact, `*`, wildcard subdomains (`https://*.example.com`, or `*.example.com` for http and https), `/regex/flags`. */

export interface OriginMatcher {
  /** `*` is among the patterns. */
  readonly any: boolean;
  matches(origin: string): boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compilePattern(p: string): RegExp | string {
  if (p.length > 2 && p.startsWith('/') && p.lastIndexOf('/') > 0) {
    const end = p.lastIndexOf('/');
    try {
      return new RegExp(p.slice(1, end), p.slice(end + 1));
    } catch (err) {
      throw new Error(`origins: ${p} is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  const lower = p.toLowerCase().replace(/\/$/, '');
  if (lower.includes('*')) {
    const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?\*\.([a-z0-9.-]+(?::\d+)?)$/.exec(lower);
    if (!m) throw new Error(`origins: ${p} must be an origin, *, https://*.domain or /regex/ (one leading wildcard label)`);
    const scheme = m[1] ? escape(m[1]) : 'https?';
    return new RegExp(`^${scheme}://([a-z0-9-]+\\.)+${escape(m[2]!)}$`);
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]+$/.test(lower) && lower !== 'null') {
    throw new Error(`origins: ${p} must be scheme://host[:port] (no path), *, a wildcard or /regex/`);
  }
  return lower;
}

export function compileOrigins(patterns: readonly string[]): OriginMatcher {
  const any = patterns.includes('*');
  const compiled = patterns.filter((p) => p !== '*').map(compilePattern);
  const exact = new Set(compiled.filter((c): c is string => typeof c === 'string'));
  const regexes = compiled.filter((c): c is RegExp => c instanceof RegExp);
  return {
    any,
    matches(origin) {
      if (any) return true;
      const o = origin.toLowerCase();
      if (exact.has(o)) return true;
      return regexes.some((r) => r.test(r.flags.includes('i') ? origin : o));
    },
  };
}
