/**
 * `forward: { header: claim }`: upstream request headers set from verified claims. The header
 * reaches the upstream as exactly one line with the gateway's value; a client's own copy is
 * replaced, and removed when the claim is absent.
 */
import type { FastifyRequest } from 'fastify';
import { claimAt, claimText } from './claims.js';

/** Headers the gateway owns or that frame the message: a claim may not be forwarded into them. */
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'proxy-authorization']);

export type ClaimForwarder = (request: FastifyRequest, claims: Readonly<Record<string, unknown>>) => void;

/** Compiles the forward map once at load; throws (a config error) for a reserved header. */
export function compileForward(forward: Readonly<Record<string, string>>): ClaimForwarder | undefined {
  const pairs = Object.entries(forward).map(([header, claim]) => {
    const name = header.toLowerCase();
    if (RESERVED.has(name)) throw new Error(`forward: the ${name} header cannot carry a claim`);
    return [name, claim] as const;
  });
  if (pairs.length === 0) return undefined;
  const names = new Set(pairs.map(([name]) => name));
  return (request, claims) => {
    const h = request.headers;
    for (const [name, claim] of pairs) {
      const text = claimText(claimAt(claims, claim));
      if (text === undefined) delete h[name];
      else h[name] = text;
    }
    // A client naming these headers in Connection would have the proxy drop them as hop-by-hop.
    if (h.connection !== undefined) h.connection = withoutTokens(h.connection, names);
  };
}

/** The Connection header without the given (lower-case) tokens. */
function withoutTokens(value: string, names: ReadonlySet<string>): string {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && !names.has(t.toLowerCase()))
    .join(', ');
}
