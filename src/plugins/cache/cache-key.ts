/** The cache key: method + host + path + sorted query + the configured `vary` request headers. */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export type CacheKeyFn = (request: FastifyRequest) => string;

export function compileCacheKey(vary: readonly string[]): CacheKeyFn {
  const names = vary.map((h) => h.toLowerCase()).sort();
  return (request) => {
    const url = request.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let query = '';
    if (q !== -1) {
      const params = new URLSearchParams(url.slice(q + 1));
      params.sort();
      query = params.toString();
    }
    let key = `${request.method}\n${request.host.toLowerCase()}\n${path}\n${query}`;
    for (const name of names) {
      const v = request.headers[name];
      key += `\n${name}:${v === undefined ? '\u0000' : Array.isArray(v) ? v.join(', ') : v}`;
    }
    return createHash('sha256').update(key).digest('base64url');
  };
}
