/** Accept-Encoding negotiation and content-type matching for the compress plugin. */

export type Encoding = 'br' | 'gzip';

/**
 * The encoding to use for a request's Accept-Encoding, or undefined for identity. The highest
 * q-value wins; equal q-values go to the order of `offered`. `*` covers encodings not named.
 */
export function pickEncoding(acceptEncoding: string | undefined, offered: readonly Encoding[]): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName!.trim().toLowerCase();
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) weight = Number(m[1]);
    }
    if (!Number.isFinite(weight)) weight = 0;
    q.set(name === 'x-gzip' ? 'gzip' : name, weight);
  }
  let best: Encoding | undefined;
  let bestQ = 0;
  for (const enc of offered) {
    const w = q.get(enc) ?? q.get('*') ?? 0;
    if (w > bestQ) {
      best = enc;
      bestQ = w;
    }
  }
  return best;
}

/** A matcher for content-type patterns like `text/*`, `application/json`, `application/*+json`. */
export function typeMatcher(patterns: readonly string[]): (contentType: string | undefined) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.toLowerCase().replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/;]*')}$`));
  return (contentType) => {
    if (!contentType) return false;
    const base = contentType.split(';')[0]!.trim().toLowerCase();
    return res.some((r) => r.test(base));
  };
}
