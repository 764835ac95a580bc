/**
 * Checks a route file against RouteFile. A large file (reloads of thousands of routes run under
 * traffic) is checked route by route with a turn of the event loop every YIELD_EVERY routes
 * instead of in one synchronous step; when anything in it is wrong, the whole file is checked
 * again in one piece so that the errors and their order are exactly those of a whole-file check.
 */
import type { ConfigIssue } from './diagnostics.js';
import { Route, RouteFile } from './schema.js';
import type { SourceFile } from './source.js';
import { check } from './validate.js';
import { yielder, YIELD_EVERY } from '../yield-to-loop.js';

type Checked = NonNullable<ReturnType<typeof check<typeof RouteFile>>>;

export async function checkRouteFile(data: unknown, source: SourceFile, issues: ConfigIssue[]): Promise<Checked | undefined> {
  const routes = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as { routes?: unknown }).routes : undefined;
  if (!Array.isArray(routes) || routes.length <= YIELD_EVERY) return check(RouteFile, data, source, [], issues);
  const scratch: ConfigIssue[] = [];
  const head = check(RouteFile, { ...(data as Record<string, unknown>), routes: [] }, source, [], scratch);
  const checked: Checked['routes'] = [];
  const pause = yielder();
  for (let i = 0; i < routes.length; i++) {
    const route = check(Route, routes[i], source, ['routes', i], scratch);
    if (route !== undefined) checked.push(route);
    await pause();
  }
  if (!head || scratch.length > 0) return check(RouteFile, data, source, [], issues);
  return { ...head, routes: checked };
}
