/** Picks an operation out of an OpenAPI 3 document and turns it into the plugin's per-part JSON Schemas. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export type Schema = boolean | Record<string, unknown>;

/** What one request is checked against. Schemas may `$ref` into the document under `docId`. */
export interface PartSchemas {
  query?: Schema;
  params?: Schema;
  headers?: Schema;
  body?: Schema;
  /** A request without a body is a violation. */
  bodyRequired: boolean;
}

export interface OpenApiDoc {
  readonly id: string;
  readonly doc: Record<string, unknown>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function loadOpenApi(file: string, configDir: string): OpenApiDoc {
  const full = path.resolve(configDir, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new Error(`openapi: cannot read ${full}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text); // YAML is a superset of JSON: one parser for both.
  } catch (err) {
    throw new Error(`openapi: ${full} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (!isObj(doc) || typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.') || !isObj(doc.paths)) {
    throw new Error(`openapi: ${full} is not an OpenAPI 3 document (needs "openapi: 3.x" and "paths")`);
  }
  return { id: `gatehouse-openapi:${full}`, doc };
}

function deref(doc: Obj, value: unknown, seen = new Set<string>()): unknown {
  if (!isObj(value) || typeof value.$ref !== 'string' || !value.$ref.startsWith('#/')) return value;
  const ref = value.$ref;
  if (seen.has(ref)) throw new Error(`openapi: circular $ref ${ref}`);
  seen.add(ref);
  let v: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    v = isObj(v) ? v[key] : undefined;
  }
  if (v === undefined) throw new Error(`openapi: $ref ${ref} points at nothing`);
  return deref(doc, v, seen);
}

/** Local `$ref`s made absolute, so Ajv resolves them in the document registered under `docId`. */
function anchored(schema: unknown, docId: string): Schema {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObj(v)) return v;
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#') ? `${docId}${x}` : walk(x);
    return out;
  };
  const s = walk(schema);
  return typeof s === 'boolean' ? s : isObj(s) ? s : {};
}

const segments = (p: string) => p.split('/').filter(Boolean);
const isParam = (seg: string) => seg.startsWith(':') || (seg.startsWith('{') && seg.endsWith('}'));
const paramName = (seg: string) => (seg.startsWith(':') ? seg.slice(1).replace(/\(.*$/, '') : seg.slice(1, -1));

/** Route path `/users/:id` against OpenAPI `/users/{userId}`: the OpenAPI name → route param name, or undefined. */
function matchPath(routePath: string, apiPath: string): Map<string, string> | undefined {
  const a = segments(routePath);
  const b = segments(apiPath);
  if (a.length !== b.length) return undefined;
  const names = new Map<string, string>();
  for (let i = 0; i < a.length; i++) {
    if (isParam(a[i]!) && isParam(b[i]!)) names.set(paramName(b[i]!), paramName(a[i]!));
    else if (a[i] !== b[i]) return undefined;
  }
  return names;
}

interface Found {
  op: Obj;
  pathItem: Obj;
  names: Map<string, string>;
}

function findOperations(api: OpenApiDoc, routePath: string, methods: readonly string[], operationId: string | undefined): Map<string, Found> {
  const paths = api.doc.paths as Obj;
  const found = new Map<string, Found>();
  if (operationId !== undefined) {
    for (const [p, item] of Object.entries(paths)) {
      if (!isObj(item)) continue;
      for (const m of METHODS) {
        const op = item[m];
        if (isObj(op) && op.operationId === operationId) {
          // Path parameters pair up by position: /pets/{petId} on a route /animals/:id checks :id.
          const routeParams = segments(routePath).filter(isParam).map(paramName);
          const names = new Map(segments(p).filter(isParam).map((s, i) => [paramName(s), routeParams[i] ?? paramName(s)]));
          found.set('*', { op, pathItem: item, names });
          return found;
        }
      }
    }
    throw new Error(`openapi: no operation has operationId "${operationId}"`);
  }
  for (const [p, rawItem] of Object.entries(paths)) {
    const names = matchPath(routePath, p);
    const item = deref(api.doc, rawItem);
    if (!names || !isObj(item)) continue;
    for (const m of methods) {
      const op = item[m.toLowerCase()];
      if (isObj(op)) found.set(m.toUpperCase(), { op, pathItem: item, names });
    }
    if (found.size > 0) return found;
  }
  throw new Error(`openapi: no operation for ${methods.join('/')} ${routePath} (set "operation" to an operationId)`);
}

function partsFor(api: OpenApiDoc, f: Found): PartSchemas {
  const byKey = new Map<string, Obj>();
  for (const list of [f.pathItem.parameters, f.op.parameters]) {
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const p = deref(api.doc, raw);
      if (isObj(p) && typeof p.name === 'string' && typeof p.in === 'string') byKey.set(`${p.in}:${p.name}`, p);
    }
  }
  const groups: Record<'query' | 'path' | 'header', { properties: Obj; required: string[] }> = {
    query: { properties: {}, required: [] },
    path: { properties: {}, required: [] },
    header: { properties: {}, required: [] },
  };
  for (const p of byKey.values()) {
    const where = p.in as string;
    if (where !== 'query' && where !== 'path' && where !== 'header') continue;
    let name = p.name as string;
    if (where === 'header') name = name.toLowerCase();
    if (where === 'path') name = f.names.get(name) ?? name;
    groups[where].properties[name] = anchored(p.schema ?? {}, api.id);
    if (p.required === true || where === 'path') groups[where].required.push(name);
  }
  const objectSchema = (g: { properties: Obj; required: string[] }): Schema | undefined =>
    Object.keys(g.properties).length === 0 ? undefined : { type: 'object', properties: g.properties, required: g.required };
  const parts: PartSchemas = { query: objectSchema(groups.query), params: objectSchema(groups.path), headers: objectSchema(groups.header), bodyRequired: false };
  const rb = deref(api.doc, f.op.requestBody);
  if (isObj(rb) && isObj(rb.content)) {
    const entry = Object.entries(rb.content).find(([type]) => /json/i.test(type));
    if (entry && isObj(entry[1]) && entry[1].schema !== undefined) parts.body = anchored(entry[1].schema, api.id);
    parts.bodyRequired = rb.required === true;
  }
  return parts;
}

/** Per request method ('*' for all), the schemas of the route's OpenAPI operation. */
export function operationSchemas(api: OpenApiDoc, routePath: string, methods: readonly string[], operationId: string | undefined): Map<string, PartSchemas> {
  const out = new Map<string, PartSchemas>();
  for (const [m, f] of findOperations(api, routePath, methods, operationId)) out.set(m, partsFor(api, f));
  return out;
}
