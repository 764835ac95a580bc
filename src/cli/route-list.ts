/** `gatehouse routes`: the route table as text. */
import type { Snapshot } from '../config/snapshot.js';
import { HTTP_METHODS } from '../config/schema.js';
import type { RouteEntry } from '../config/snapshot.js';

/** `proxy -> orders` or `aggregate -> users, orders, payments`. */
export function targetSummary(r: RouteEntry): string {
  if (r.upstream) return `proxy -> ${r.upstream.service}`;
  if (r.aggregatePlan) return `aggregate -> ${r.aggregatePlan.services.join(', ')}`;
  return 'unknown';
}

export function routeList(snapshot: Snapshot): string[] {
  const rows = snapshot.routes.map((r) => [
    r.id,
    r.methods.length === HTTP_METHODS.length ? '*' : r.methods.join(','),
    r.match.host ?? '*',
    r.match.path + (r.match.headers ? ` [${Object.entries(r.match.headers).map(([k, v]) => `${k}=${v}`).join(' ')}]` : ''),
    targetSummary(r),
  ]);
  const head = ['ID', 'METHODS', 'HOST', 'PATH', 'TARGET'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt), `${snapshot.routes.length} route${snapshot.routes.length === 1 ? '' : 's'}, ${snapshot.services.size} service${snapshot.services.size === 1 ? '' : 's'}`];
}
