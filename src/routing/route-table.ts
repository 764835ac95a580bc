/**
 * The route table outside Fastify: the same paths, methods and constraints, for
 * `gatehouse explain`, the 405 `Allow` list, and conflict checks at load.
 *
 * The find-my-way tree stores each route's position, not the route: a reload whose routes
 * match exactly what the running table's do (same order, methods, paths, hosts and headers)
 * takes the running tree over with `rebind` instead of building another one (with 10,000
 * routes the tree is ~25 MB of heap, compacted once built: compact-tree.ts, and most of a
 * reload's time).
 */
import FindMyWay from 'find-my-way';
import { HTTP_METHODS } from '../config/schema.js';
import { compactTree } from './compact-tree.js';
import { buildConstraints, type Constraints } from './constraints.js';
import { normalizeTarget } from './normalize-path.js';
import { yielder } from '../yield-to-loop.js';

export interface TableRoute {
  readonly id: string;
  readonly methods: readonly string[];
  readonly match: { path: string; host?: string; headers?: Readonly<Record<string, string>> };
}

export const ROUTER_OPTIONS = { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 } as const;

/** GET routes answer HEAD too, unless HEAD is routed explicitly elsewhere. */
export function methodsWithHead(methods: readonly string[]): string[] {
  return methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : [...methods];
}

export interface Lookup<R> {
  route: R;
  params: Record<string, string | undefined>;
}

/** What the tree keeps per route: where it is in the table's list. */
interface Slot {
  readonly index: number;
}

/** Whether two routes match the same requests, as far as the table can tell. */
function sameMatch(a: TableRoute, b: TableRoute): boolean {
  const x = a.match;
  const y = b.match;
  if (x.path !== y.path || x.host !== y.host || a.methods.length !== b.methods.length) return false;
  for (let i = 0; i < a.methods.length; i++) if (a.methods[i] !== b.methods[i]) return false;
  const xh = x.headers ?? {};
  const yh = y.headers ?? {};
  const names = Object.keys(xh);
  if (names.length !== Object.keys(yh).length) return false;
  return names.every((n) => Object.hasOwn(yh, n) && xh[n] === yh[n]);
}

export class RouteTable<R extends TableRoute> {
  readonly constraints: Constraints;
  private readonly router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
  /** The routes, by the index the tree stores. */
  private readonly routes: readonly R[];

  private readonly explicitHead: ReadonlySet<string>;
  /**
   * When the HEAD tree would hold exactly the GET tree's routes (every route listing HEAD lists
   * GET too, and every other GET route answers HEAD), HEAD is looked up in the GET tree instead
   * of storing the routes twice.
   */
  private readonly headIsGet: boolean;

  constructor(routes: readonly R[], onConflict?: (route: R, error: Error) => void, insert = true, from?: RouteTable<TableRoute>) {
    this.routes = routes;
    if (from) {
      this.constraints = from.constraints;
      this.router = from.router;
      this.explicitHead = from.explicitHead;
      this.headIsGet = from.headIsGet;
      return;
    }
    this.constraints = buildConstraints(routes.map((r) => r.match));
    this.router = FindMyWay({ ...ROUTER_OPTIONS, constraints: this.constraints.strategies as never });
    this.explicitHead = new Set(routes.filter((r) => r.methods.includes('HEAD')).map((r) => r.match.path));
    this.headIsGet = routes.every((r) => {
      const get = r.methods.includes('GET');
      return r.methods.includes('HEAD') ? get : !get || !this.explicitHead.has(r.match.path);
    });
    if (insert) {
      routes.forEach((route, index) => this.insert(route, index, onConflict));
      compactTree(this.router);
    }
  }

  /**
   * A table of `routes` sharing this one's tree, when they match exactly what this table's
   * routes do, in the same order (what they do once matched may differ); undefined otherwise.
   * Only for a table whose every route went in (no conflict), as one a config was accepted with.
   */
  rebind<T extends TableRoute>(routes: readonly T[]): RouteTable<T> | undefined {
    if (routes.length !== this.routes.length) return undefined;
    for (let i = 0; i < routes.length; i++) if (!sameMatch(routes[i]!, this.routes[i]!)) return undefined;
    return new RouteTable(routes, undefined, false, this);
  }

  /** The same table, built with a turn of the event loop every YIELD_EVERY routes (reloads under load). */
  static async build<R extends TableRoute>(routes: readonly R[], onConflict?: (route: R, error: Error) => void): Promise<RouteTable<R>> {
    const table = new RouteTable(routes, onConflict, false);
    const pause = yielder();
    for (let i = 0; i < routes.length; i++) {
      table.insert(routes[i]!, i, onConflict);
      await pause();
    }
    compactTree(table.router);
    return table;
  }

  private insert(route: R, index: number, onConflict: ((route: R, error: Error) => void) | undefined): void {
    const methods = this.headIsGet || this.explicitHead.has(route.match.path) ? [...route.methods] : methodsWithHead(route.methods);
    const constraints = this.constraints.forRoute(route.match);
    try {
      this.router.on(methods as FindMyWay.HTTPMethod[], route.match.path, { constraints: constraints ?? {} }, () => undefined, { index } satisfies Slot);
    } catch (err) {
      if (onConflict) onConflict(route, err as Error);
      else throw err;
    }
  }

  /** The route a request takes; undefined when none matches. */
  find(method: string, target: string, headers: Record<string, string | string[] | undefined> = {}): Lookup<R> | undefined {
    const n = normalizeTarget(target);
    if (!n.ok) return undefined;
    return this.findPath(method, n.path, headers);
  }

  /** The same, for a path normalizeTarget already gave. */
  findPath(method: string, path: string, headers: Record<string, string | string[] | undefined>): Lookup<R> | undefined {
    const found = this.router.find((method === 'HEAD' && this.headIsGet ? 'GET' : method) as FindMyWay.HTTPMethod, path, this.constraints.derive({ headers }) as never);
    if (!found) return undefined;
    return { route: this.routes[(found.store as Slot).index]!, params: found.params };
  }

  /** Methods the path answers to (for 405 and Allow). */
  allowed(target: string, headers: Record<string, string | string[] | undefined> = {}): string[] {
    return HTTP_METHODS.filter((m) => this.find(m, target, headers) !== undefined);
  }
}
