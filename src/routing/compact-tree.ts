/**
 * Shrinks a built find-my-way tree to what it holds. find-my-way gives every node three arrays
 * (static children's first characters, static children, parametric children) and every leaf a
 * few more; an array's first push reserves room for 16 items, and most nodes have one child
 * or none. Once the table is built (it is never added to afterwards) each non-empty array is
 * replaced by an exact-size copy, and each empty one by one shared frozen empty array: a push
 * into it throws, where it would otherwise add to every node sharing it. With 10,000 routes
 * the tree takes ~35 MB of heap before and ~25 MB after (`npm run bench -- --scale`).
 *
 * It reads find-my-way's node fields by name, and leaves alone any field that is not an array
 * (a later find-my-way with other fields keeps working, only larger); the route-table tests
 * look routes up in compacted tables only.
 */

const EMPTY: readonly unknown[] = Object.freeze([]);

type Fields = Record<string, unknown>;

const NODE_ARRAYS = ['staticChildrenCharCodes', 'staticChildrenNodes', 'parametricChildren', 'routes'] as const;
const STORAGE_ARRAYS = ['constraints', 'handlers'] as const;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null;
}

function shrink(owner: Fields, key: string): void {
  const value = owner[key];
  if (Array.isArray(value)) owner[key] = value.length === 0 ? EMPTY : value.slice();
}

function children(node: Fields): unknown[] {
  const out: unknown[] = [];
  for (const key of ['staticChildrenNodes', 'parametricChildren'] as const) {
    const list = node[key];
    if (Array.isArray(list)) out.push(...(list as unknown[]));
  }
  if (node.wildcardChild) out.push(node.wildcardChild);
  return out;
}

/** Compacts every method tree of `router` (a find-my-way instance); returns how many nodes it visited. */
export function compactTree(router: object): number {
  const trees = (router as { trees?: unknown }).trees;
  if (!isFields(trees)) return 0;
  const seen = new Set<object>();
  const stack: unknown[] = Object.values(trees);
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isFields(node) || seen.has(node)) continue;
    seen.add(node);
    stack.push(...children(node));
    for (const key of NODE_ARRAYS) shrink(node, key);
    const storage = node.handlerStorage;
    if (!isFields(storage)) continue;
    for (const key of STORAGE_ARRAYS) shrink(storage, key);
    const handlers = storage.handlers;
    if (Array.isArray(handlers)) for (const h of handlers as unknown[]) if (isFields(h)) shrink(h, 'params');
  }
  return seen.size;
}
