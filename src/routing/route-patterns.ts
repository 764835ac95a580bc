/** Load-time checks of route paths: syntax, rewrite references, and two routes claiming the same requests. */
import type { ConfigIssue, Segment } from '../config/diagnostics.js';
import type { RouteEntry } from '../config/snapshot.js';
import type { SourceFile } from '../config/source.js';
import { RouteTable } from './route-table.js';
import { patternParams } from './upstream-path.js';

interface PlacedRoute {
  value: RouteEntry;
  source: SourceFile;
  path: Segment[];
}

/**
 * Checks the routes; returns the route table of those that passed (the snapshot keeps it, so the
 * app does not build it again). Yields to the event loop as it goes: a reload runs under traffic.
 * `running`: the table of the config being served; when every route passed and they match what
 * its routes do, the new table shares its tree (RouteTable.rebind).
 */
export async function checkRoutePatterns(routes: readonly PlacedRoute[], issues: ConfigIssue[], running?: RouteTable<RouteEntry>): Promise<RouteTable<RouteEntry>> {
  const claimed = new Map<string, PlacedRoute>();
  const ok: PlacedRoute[] = [];
  for (const r of routes) {
    const { match, upstream } = r.value;
    const shape = match.path.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, ':');
    const headers = Object.entries(match.headers ?? {})
      .map(([k, v]) => `${k.toLowerCase()}=${v}`)
      .sort()
      .join('&');
    let conflict = false;
    for (const m of r.value.methods) {
      const key = `${m} ${shape} ${match.host?.toLowerCase() ?? ''} ${headers}`;
      const prior = claimed.get(key);
      if (prior && !conflict) {
        const w = prior.value.where;
        issues.push(r.source.issue([...r.path, 'match'], `route "${r.value.id}" matches the same ${m} requests as route "${prior.value.id}" (${w.file}:${w.line}:${w.col})`));
        conflict = true;
      }
      claimed.set(key, r);
    }
    const { params, wildcard } = patternParams(match.path);
    const template = upstream?.rewrite;
    if (template !== undefined) {
      for (const ref of template.matchAll(/\{([^}]*)\}/g)) {
        const name = ref[1]!;
        if (name === '*' ? !wildcard : !params.includes(name)) {
          issues.push(r.source.issue([...r.path, 'upstream', 'rewrite'], name === '*' ? '{*} needs a * in match.path' : `{${name}} is not a parameter of match.path (has: ${params.map((p) => `{${p}}`).join(', ') || 'none'})`));
        }
      }
    }
    if (!conflict) ok.push(r);
  }
  const reused = ok.length === routes.length ? running?.rebind(ok.map((r) => r.value)) : undefined;
  if (reused) return reused;
  // Whatever find-my-way itself refuses (bad regex params, mixed param names at one node).
  const placed = new Map(ok.map((r) => [r.value, r]));
  return RouteTable.build(
    ok.map((r) => r.value),
    (route, err) => {
      const at = placed.get(route)!;
      issues.push(at.source.issue([...at.path, 'match', 'path'], err.message));
    },
  );
}
