/** `{params.id}`, `{jwt.sub}`, `{consumer}`, `{header.x}`, `{query.q}`, `{requestId}`, `{ip}` in plugin config strings. */
import type { FastifyRequest } from 'fastify';

export type Template = (request: FastifyRequest) => string;

type Getter = (request: FastifyRequest) => unknown;

export const TEMPLATE_SOURCES = ['params', 'jwt', 'header', 'query', 'consumer', 'requestId', 'ip'] as const;

function getter(expr: string): Getter | undefined {
  const dot = expr.indexOf('.');
  const head = dot === -1 ? expr : expr.slice(0, dot);
  const key = dot === -1 ? '' : expr.slice(dot + 1);
  switch (head) {
    case 'consumer':
      return (r) => r.gatehouse?.consumer;
    case 'requestId':
      return (r) => r.id;
    case 'ip':
      return (r) => r.ip;
    case 'params':
      return key ? (r) => (r.params as Record<string, unknown>)[key] : undefined;
    case 'query':
      return key ? (r) => (r.query as Record<string, unknown> | undefined)?.[key] : undefined;
    case 'header':
      return key ? (r) => r.headers[key.toLowerCase()] : undefined;
    case 'jwt':
      return key
        ? (r) => {
            let v: unknown = r.gatehouse?.jwt;
            for (const k of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
            return v;
          }
        : undefined;
    default:
      return undefined;
  }
}

function plain(v: unknown): string {
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function text(v: unknown): string {
  const s = plain(v);
  // A value placed into a header never carries CR, LF or NUL; non-Latin-1 text goes as its UTF-8 bytes.
  const clean = s.replace(/[\r\n\0]/g, '');
  return /[^\x00-\xff]/.test(clean) ? Buffer.from(clean, 'utf8').toString('latin1') : clean;
}

/**
 * Compiles a template once; returns an error message for an unknown `{reference}`. Values are
 * made header-safe unless `opts.body` (a value placed into a body keeps every character).
 */
export function compileTemplate(source: string, opts: { body?: boolean } = {}): Template | { error: string } {
  const render = opts.body ? plain : text;
  const parts: (string | Getter)[] = [];
  let last = 0;
  for (const m of source.matchAll(/\{([A-Za-z][\w.*-]*)\}/g)) {
    const g = getter(m[1]!);
    if (!g) return { error: `unknown template reference {${m[1]}} (use ${TEMPLATE_SOURCES.map((s) => (s === 'consumer' || s === 'requestId' || s === 'ip' ? `{${s}}` : `{${s}.NAME}`)).join(', ')})` };
    if (m.index! > last) parts.push(source.slice(last, m.index));
    parts.push(g);
    last = m.index! + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const constant = parts[0];
    return () => constant;
  }
  return (request) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : render(p(request));
    return out;
  };
}
