/**
 * Templates of aggregate backends and of the final body: `{params.userId}`, `{query.q}`,
 * `{header.x-tenant}`, `{jwt.sub}`, `{consumer}`, `{requestId}`, `{ip}`, `{body.field}`,
 * and `{user.accountId}`: another backend's result, by its `as`.
 */
import type { FastifyRequest } from 'fastify';
import { readPath, splitPath } from './select.js';

/** Sources that come from the client's request rather than from a backend. */
export const REQUEST_SOURCES = ['params', 'query', 'header', 'jwt', 'body', 'consumer', 'requestId', 'ip'] as const;
const KEYED = new Set(['params', 'query', 'header', 'jwt']);
const BARE = new Set(['consumer', 'requestId', 'ip']);

export interface Ref {
  /** `{user.accountId}` -> root `user`, path `["accountId"]`. */
  readonly root: string;
  readonly path: readonly string[];
  /** The reference as written, braces included. */
  readonly text: string;
}

type Piece = string | Ref;

export interface ParsedTemplate {
  readonly pieces: readonly Piece[];
  readonly refs: readonly Ref[];
}

const REFERENCE = /\{([A-Za-z_*][\w.*-]*)\}/g;

export function parseTemplate(source: string): ParsedTemplate {
  const pieces: Piece[] = [];
  const refs: Ref[] = [];
  let last = 0;
  for (const m of source.matchAll(REFERENCE)) {
    const [root, ...path] = splitPath(m[1]!);
    const ref: Ref = { root: root!, path, text: m[0] };
    if (m.index! > last) pieces.push(source.slice(last, m.index));
    pieces.push(ref);
    refs.push(ref);
    last = m.index! + m[0].length;
  }
  if (last < source.length) pieces.push(source.slice(last));
  return { pieces, refs };
}

/** Why a request-source reference is malformed, or undefined when it is fine or names a backend. */
export function requestRefProblem(ref: Ref): string | undefined {
  if (KEYED.has(ref.root) && ref.path.length === 0) return `${ref.text} needs a name: {${ref.root}.NAME}`;
  if (BARE.has(ref.root) && ref.path.length > 0) return `${ref.text}: {${ref.root}} takes no name`;
  return undefined;
}

export function isRequestSource(root: string): boolean {
  return (REQUEST_SOURCES as readonly string[]).includes(root);
}

/** What a template reads at request time. */
export interface Scope {
  readonly request: FastifyRequest;
  /** The client's body parsed as JSON, when some template reads `{body...}`. */
  readonly body: unknown;
  /** Results of finished backends, by `as`, shaped. */
  readonly parts: ReadonlyMap<string, unknown>;
}

export function resolve(ref: Ref, scope: Scope): unknown {
  const r = scope.request;
  switch (ref.root) {
    case 'params':
      return (r.params as Record<string, unknown>)[ref.path.join('.')];
    case 'query':
      return (r.query as Record<string, unknown> | undefined)?.[ref.path.join('.')];
    case 'header':
      return r.headers[ref.path.join('.').toLowerCase()];
    case 'jwt':
      return readPath(r.gatehouse?.jwt, ref.path);
    case 'body':
      return readPath(scope.body, ref.path);
    case 'consumer':
      return r.gatehouse?.consumer;
    case 'requestId':
      return r.id;
    case 'ip':
      return r.ip;
    default:
      return readPath(scope.parts.get(ref.root), ref.path);
  }
}

function text(v: unknown): string {
  const s = Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // A value placed into a header never carries CR, LF or NUL.
  return s.replace(/[\r\n\0]/g, '');
}

const missing = (v: unknown) => v === undefined || v === null;

/** A path template: values URL-encoded; a missing value is reported, never placed as an empty segment. */
export function renderPath(t: ParsedTemplate, scope: Scope): { path: string } | { missing: string } {
  let out = '';
  for (const p of t.pieces) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const v = resolve(p, scope);
    if (missing(v)) return { missing: p.text };
    out += encodeURIComponent(text(v));
  }
  return { path: out };
}

/** A header or query value; undefined when any reference is missing (the header or parameter is left out). */
export function renderText(t: ParsedTemplate, scope: Scope): string | undefined {
  let out = '';
  for (const p of t.pieces) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const v = resolve(p, scope);
    if (missing(v)) return undefined;
    out += text(v);
  }
  return out;
}

/** A JSON value whose strings are templates; a string that is exactly one reference places that value as is. */
export interface ValueTemplate {
  /** Each reference with where it sits inside the value (keys and indexes). */
  readonly refs: readonly { readonly ref: Ref; readonly at: readonly (string | number)[] }[];
  render(scope: Scope): unknown;
}

export function compileValue(value: unknown): ValueTemplate {
  const refs: { ref: Ref; at: (string | number)[] }[] = [];
  const build = (v: unknown, at: (string | number)[]): ((s: Scope) => unknown) => {
    if (typeof v === 'string') {
      const t = parseTemplate(v);
      for (const ref of t.refs) refs.push({ ref, at });
      if (t.refs.length === 0) return () => v;
      const only = t.pieces.length === 1 ? (t.pieces[0] as Ref) : undefined;
      if (only) return (s) => resolve(only, s) ?? null;
      return (s) => t.pieces.map((p) => (typeof p === 'string' ? p : ((x) => (missing(x) ? '' : text(x)))(resolve(p, s)))).join('');
    }
    if (Array.isArray(v)) {
      const items = v.map((x, i) => build(x, [...at, i]));
      return (s) => items.map((f) => f(s));
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, build(x, [...at, k])] as const);
      return (s) => Object.fromEntries(entries.map(([k, f]) => [k, f(s)]));
    }
    return () => v;
  };
  const render = build(value, []);
  return { refs, render };
}
