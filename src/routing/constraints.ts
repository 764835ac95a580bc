/** find-my-way constraint strategies for route `host` (exact or `*.domain`) and `headers` matches. */
import type { ConstraintStrategy, HTTPVersion } from 'find-my-way';

type Strategy = ConstraintStrategy<HTTPVersion.V1, string>;

interface HeadersLike {
  headers: Record<string, string | string[] | undefined>;
}

export interface RouteMatchSpec {
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Constraints {
  /** Strategies to hand to Fastify / find-my-way. */
  readonly strategies: Record<string, Strategy>;
  /** The constraints object for one route's registration. */
  forRoute(match: RouteMatchSpec): Record<string, string> | undefined;
  /** What the strategies derive from a request (for lookups outside Fastify). */
  derive(req: HeadersLike): Record<string, string | undefined>;
}

/** `Api.Example.com:8080` -> `api.example.com`; `[::1]:80` -> `[::1]`. */
export function hostOf(value: string | string[] | undefined): string | undefined {
  const h = Array.isArray(value) ? value[0] : value;
  if (!h) return undefined;
  if (h[0] === '[') {
    const end = h.indexOf(']');
    return (end === -1 ? h : h.slice(0, end + 1)).toLowerCase();
  }
  const colon = h.indexOf(':');
  return (colon === -1 ? h : h.slice(0, colon)).toLowerCase();
}

function hostStrategy(): Strategy {
  return {
    name: 'gwhost',
    mustMatchWhenDerived: false,
    storage() {
      const exact = new Map<string, unknown>();
      const wildcards: { suffix: string; value: unknown }[] = [];
      return {
        get(host: string) {
          const hit = exact.get(host);
          if (hit !== undefined) return hit as never;
          for (const w of wildcards) if (host.length > w.suffix.length && host.endsWith(w.suffix)) return w.value as never;
          return null;
        },
        set(host: string, value: unknown) {
          if (host.startsWith('*.')) wildcards.push({ suffix: host.slice(1), value });
          else exact.set(host, value);
          // longest suffix first, so *.a.example.com wins over *.example.com
          wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
        },
      };
    },
    deriveConstraint(req) {
      const r = req as unknown as HeadersLike;
      return hostOf(r.headers.host ?? r.headers[':authority']) as string;
    },
  };
}

/** What a table without host or header matches derives from any request. */
const NOTHING_DERIVED: Readonly<Record<string, string | undefined>> = Object.freeze({});

function headerStrategy(name: string, header: string): Strategy {
  return {
    name,
    mustMatchWhenDerived: false,
    storage() {
      const map = new Map<string, unknown>();
      return {
        get: (v: string) => (map.get(v) ?? null) as never,
        set: (v: string, h: unknown) => void map.set(v, h),
      };
    },
    deriveConstraint(req) {
      const v = (req as unknown as HeadersLike).headers[header];
      return (Array.isArray(v) ? v.join(', ') : v) as string;
    },
  };
}

export function buildConstraints(matches: readonly RouteMatchSpec[]): Constraints {
  const strategies: Record<string, Strategy> = {};
  const headerNames = new Map<string, string>();
  let usesHost = false;
  for (const m of matches) {
    if (m.host) usesHost = true;
    for (const h of Object.keys(m.headers ?? {})) {
      const lower = h.toLowerCase();
      if (!headerNames.has(lower)) headerNames.set(lower, `gwh${headerNames.size}`);
    }
  }
  if (usesHost) strategies.gwhost = hostStrategy();
  for (const [header, name] of headerNames) strategies[name] = headerStrategy(name, header);
  const derivers = Object.entries(strategies);
  return {
    strategies,
    forRoute(match) {
      const c: Record<string, string> = {};
      if (match.host) c.gwhost = match.host.toLowerCase();
      for (const [h, v] of Object.entries(match.headers ?? {})) c[headerNames.get(h.toLowerCase())!] = v;
      return Object.keys(c).length > 0 ? c : undefined;
    },
    derive(req) {
      if (derivers.length === 0) return NOTHING_DERIVED;
      const out: Record<string, string | undefined> = {};
      for (const [name, s] of derivers) out[name] = s.deriveConstraint(req as never);
      return out;
    },
  };
}
