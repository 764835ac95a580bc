/**
 * The bucket a request counts in, from `by`. Values that are missing (no such header, claim
 * or consumer) fall back to the client address, so they cannot share one anonymous bucket.
 * Values are safe for a Redis key: anything long or unusual is replaced by its hash.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import '../../request-state.js';

export type KeyFn = (request: FastifyRequest) => string;

const PLAIN = /^[A-Za-z0-9._:@/+=-]{0,64}$/;

function safe(value: string): string {
  return PLAIN.test(value) ? value : `#${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}

function claim(claims: Readonly<Record<string, unknown>> | undefined, path: string): string | undefined {
  let v: unknown = claims;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function part(spec: string): (request: FastifyRequest) => string {
  const ip = (r: FastifyRequest) => `ip=${safe(r.ip)}`;
  if (spec === 'ip') return ip;
  if (spec === 'route') return () => 'route';
  if (spec === 'consumer') {
    return (r) => {
      const c = r.gatehouse?.consumer;
      return c ? `consumer=${safe(c)}` : ip(r);
    };
  }
  if (spec.startsWith('header:')) {
    const name = spec.slice(7).toLowerCase();
    return (r) => {
      const h = r.headers[name];
      const v = Array.isArray(h) ? h.join(', ') : h;
      return v ? `${name}=${safe(v)}` : ip(r);
    };
  }
  const path = spec.slice(4);
  return (r) => {
    const v = claim(r.gatehouse?.jwt, path);
    return v !== undefined ? `jwt.${path}=${safe(v)}` : ip(r);
  };
}

export function compileKey(by: string | readonly string[]): KeyFn {
  const specs = typeof by === 'string' ? [by] : by;
  const parts = specs.map(part);
  if (parts.length === 1) return parts[0]!;
  return (r) => parts.map((p) => p(r)).join('|');
}
