/** Builds the upstream request path of a proxied route: stripPrefix, or rewrite with {param} and {*}. */

export type PathBuilder = (path: string, query: string, params: Readonly<Record<string, string | undefined>>) => string;

type Part = { lit: string } | { param: string } | { rest: true };

/** Names of the `:params` in a find-my-way pattern, and whether it ends in a wildcard. */
export function patternParams(pattern: string): { params: string[]; wildcard: boolean } {
  const params = [...pattern.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  return { params, wildcard: pattern.includes('*') };
}

function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  const re = /\{(\*|[A-Za-z0-9_]+)\}/g;
  let last = 0;
  for (const m of template.matchAll(re)) {
    if (m.index! > last) parts.push({ lit: template.slice(last, m.index) });
    parts.push(m[1] === '*' ? { rest: true } : { param: m[1]! });
    last = m.index! + m[0].length;
  }
  if (last < template.length) parts.push({ lit: template.slice(last) });
  return parts;
}

const encodeSegments = (s: string) => s.split('/').map(encodeURIComponent).join('/');

export function buildPathBuilder(pattern: string, upstream: { stripPrefix?: string; rewrite?: string }): PathBuilder {
  const withQuery = (p: string, q: string) => (q === '' ? p : `${p}?${q}`);
  if (upstream.rewrite !== undefined) {
    const parts = parseTemplate(upstream.rewrite);
    const segs = pattern.split('/');
    const star = segs.indexOf('*');
    return (path, query, params) => {
      let out = '';
      for (const part of parts) {
        if ('lit' in part) out += part.lit;
        else if ('param' in part) out += encodeURIComponent(params[part.param] ?? '');
        // the raw (still-escaped) remainder keeps %2F as it came
        else out += star !== -1 ? path.split('/').slice(star).join('/') : encodeSegments(params['*'] ?? '');
      }
      return withQuery(out.replace(/\/{2,}/g, '/') || '/', query);
    };
  }
  if (upstream.stripPrefix !== undefined) {
    const prefix = upstream.stripPrefix.replace(/\/+$/, '');
    return (path, query) => {
      if (prefix === '') return withQuery(path, query);
      if (path === prefix) return withQuery('/', query);
      if (path.startsWith(prefix) && path[prefix.length] === '/') return withQuery(path.slice(prefix.length), query);
      return withQuery(path, query);
    };
  }
  return (path, query) => withQuery(path, query);
}
