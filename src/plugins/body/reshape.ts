/** JSON reshaping: unwrap, select, omit, rename, set, wrap — in that order. */
import type { FastifyRequest } from 'fastify';
import { compileTemplate, type Template } from '../template.js';
import type { BodyOps } from './schema.js';

type Tree = { [key: string]: Tree | true };
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function tree(paths: readonly string[]): Tree {
  const root: Tree = {};
  for (const p of paths) {
    const keys = p.split('.');
    let node = root;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (i === keys.length - 1) node[k] = true;
      else {
        const next = node[k];
        if (next === true) break; // a shorter path already keeps/removes all of it
        node = node[k] = next ?? {};
      }
    }
  }
  return root;
}

function project(value: unknown, t: Tree): unknown {
  if (Array.isArray(value)) return value.map((v) => project(v, t));
  if (!isObj(value)) return undefined;
  const out: Obj = {};
  for (const [k, sub] of Object.entries(t)) {
    if (!(k in value)) continue;
    const v = sub === true ? value[k] : project(value[k], sub);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function without(value: unknown, t: Tree): unknown {
  if (Array.isArray(value)) return value.map((v) => without(v, t));
  if (!isObj(value)) return value;
  const out: Obj = { ...value };
  for (const [k, sub] of Object.entries(t)) {
    if (!(k in out)) continue;
    if (sub === true) delete out[k];
    else out[k] = without(out[k], sub);
  }
  return out;
}

function getPath(value: unknown, keys: readonly string[]): unknown {
  let v = value;
  for (const k of keys) v = isObj(v) ? v[k] : undefined;
  return v;
}

function deletePath(value: unknown, keys: readonly string[]): void {
  const parent = getPath(value, keys.slice(0, -1));
  if (isObj(parent)) delete parent[keys[keys.length - 1]!];
}

function setPath(value: Obj, keys: readonly string[], v: unknown): void {
  let node = value;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(node[k])) node[k] = {};
    node = node[k] as Obj;
  }
  node[keys[keys.length - 1]!] = v;
}

export type Reshape = (body: unknown, request: FastifyRequest) => unknown;

/** Compiles the ops once; undefined when there is nothing to do. Throws on a bad template. */
export function compileReshape(ops: BodyOps, side: string): Reshape | undefined {
  const select = ops.select ? tree(ops.select) : undefined;
  const omit = ops.omit.length > 0 ? tree(ops.omit) : undefined;
  const rename = Object.entries(ops.rename).map(([from, to]) => [from.split('.'), to.split('.')] as const);
  const set: [string[], Template][] = Object.entries(ops.set).map(([p, src]) => {
    const t = compileTemplate(src, { body: true });
    if (typeof t !== 'function') throw new Error(`${side}.set.${p}: ${t.error}`);
    return [p.split('.'), t];
  });
  const unwrap = ops.unwrap?.split('.');
  const wrap = ops.wrap;
  if (!select && !omit && rename.length === 0 && set.length === 0 && !unwrap && !wrap) return undefined;
  return (body, request) => {
    let v = body;
    if (unwrap) {
      const inner = getPath(v, unwrap);
      if (inner !== undefined) v = inner;
    }
    if (select) v = project(v, select) ?? v;
    if (omit) v = without(v, omit);
    if (rename.length > 0 || set.length > 0) {
      if (isObj(v)) {
        v = structuredClone(v);
        for (const [from, to] of rename) {
          const moved = getPath(v, from);
          if (moved === undefined) continue;
          deletePath(v, from);
          setPath(v as Obj, to, moved);
        }
        for (const [keys, t] of set) setPath(v as Obj, keys, t(request));
      }
    }
    if (wrap) v = { [wrap]: v };
    return v;
  };
}
