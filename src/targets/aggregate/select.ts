/**
 * Shaping one part: `target` picks a nested value, then `select` keeps dot paths (nesting kept:
 * `b.c` gives `{ b: { c } }`), `omit` removes dot paths, `rename` moves FROM to TO.
 * Arrays stay arrays: each step applies to every element.
 */

type Json = unknown;
type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export function splitPath(path: string): string[] {
  return path.split('.').filter((s) => s !== '');
}

/** The value at `path`; through arrays, the list of each element's value. */
export function readPath(value: Json, path: readonly string[]): Json {
  let v = value;
  for (let i = 0; i < path.length; i++) {
    if (Array.isArray(v)) {
      const rest = path.slice(i);
      return v.map((e) => readPath(e, rest));
    }
    if (!isObject(v)) return undefined;
    v = v[path[i]!];
  }
  return v;
}

function group(paths: readonly (readonly string[])[]): Map<string, (readonly string[])[]> {
  const byHead = new Map<string, (readonly string[])[]>();
  for (const p of paths) {
    if (p.length === 0) continue;
    const list = byHead.get(p[0]!) ?? [];
    list.push(p.slice(1));
    byHead.set(p[0]!, list);
  }
  return byHead;
}

export function selectPaths(value: Json, paths: readonly (readonly string[])[]): Json {
  if (Array.isArray(value)) return value.map((e) => selectPaths(e, paths));
  if (!isObject(value)) return value;
  const out: Obj = {};
  for (const [head, tails] of group(paths)) {
    if (!(head in value)) continue;
    out[head] = tails.some((t) => t.length === 0) ? value[head] : selectPaths(value[head], tails);
  }
  return out;
}

export function omitPaths(value: Json, paths: readonly (readonly string[])[]): Json {
  if (Array.isArray(value)) return value.map((e) => omitPaths(e, paths));
  if (!isObject(value)) return value;
  const out: Obj = { ...value };
  for (const [head, tails] of group(paths)) {
    if (!(head in out)) continue;
    if (tails.some((t) => t.length === 0)) delete out[head];
    else out[head] = omitPaths(out[head], tails);
  }
  return out;
}

function take(value: Obj, path: readonly string[]): { found: boolean; value?: Json; rest: Obj } {
  const [head, ...tail] = path;
  if (head === undefined || !(head in value)) return { found: false, rest: value };
  if (tail.length === 0) {
    const { [head]: taken, ...rest } = value;
    return { found: true, value: taken, rest };
  }
  const child = value[head];
  if (!isObject(child)) return { found: false, rest: value };
  const inner = take(child, tail);
  return inner.found ? { found: true, value: inner.value, rest: { ...value, [head]: inner.rest } } : { found: false, rest: value };
}

function put(value: Obj, path: readonly string[], v: Json): Obj {
  const [head, ...tail] = path;
  if (head === undefined) return value;
  if (tail.length === 0) return { ...value, [head]: v };
  const child = value[head];
  return { ...value, [head]: put(isObject(child) ? child : {}, tail, v) };
}

export function renamePaths(value: Json, renames: readonly (readonly [readonly string[], readonly string[]])[]): Json {
  if (Array.isArray(value)) return value.map((e) => renamePaths(e, renames));
  if (!isObject(value)) return value;
  let out = value;
  for (const [from, to] of renames) {
    const t = take(out, from);
    if (t.found) out = put(t.rest, to, t.value);
  }
  return out;
}

export interface ShapeSpec {
  target?: string;
  select?: readonly string[];
  omit?: readonly string[];
  rename?: Readonly<Record<string, string>>;
}

/** Compiles a backend's target/select/omit/rename once into one function. */
export function compileShape(spec: ShapeSpec): (value: Json) => Json {
  const steps: ((v: Json) => Json)[] = [];
  if (spec.target !== undefined) {
    const p = splitPath(spec.target);
    steps.push((v) => readPath(v, p) ?? null);
  }
  if (spec.select) {
    const ps = spec.select.map(splitPath);
    steps.push((v) => selectPaths(v, ps));
  }
  if (spec.omit) {
    const ps = spec.omit.map(splitPath);
    steps.push((v) => omitPaths(v, ps));
  }
  if (spec.rename) {
    const rs = Object.entries(spec.rename).map(([f, t]) => [splitPath(f), splitPath(t)] as const);
    steps.push((v) => renamePaths(v, rs));
  }
  return (v) => steps.reduce((acc, step) => step(acc), v);
}
