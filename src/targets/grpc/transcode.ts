/** The request message of a REST call: the JSON body, then path-bound fields, then query parameters. */
import type protobuf from 'protobufjs';
import { protobufJs } from './deps.js';
import { pathFieldValue, type HttpBinding } from './binding.js';
import { fieldByJsonName, jsonToPlain, JsonMappingError, scalarFromJson } from './json.js';

export { JsonMappingError } from './json.js';

type Plain = Record<string, unknown>;

/** The fields a dotted path walks through; undefined when a name is not a field. */
export function resolveFieldPath(type: protobuf.Type, dotted: string): protobuf.Field[] | undefined {
  const fields: protobuf.Field[] = [];
  let current: protobuf.Type | undefined = type;
  for (const name of dotted.split('.')) {
    if (!current) return undefined;
    const field = fieldByJsonName(current, name);
    if (!field) return undefined;
    fields.push(field);
    const sub = field.resolvedType;
    current = sub instanceof protobufJs().Type && !field.repeated && !field.map ? sub : undefined;
  }
  return fields;
}

function leafValue(field: protobuf.Field, raw: string, where: string): unknown {
  const sub = field.resolvedType;
  return sub instanceof protobufJs().Type ? jsonToPlain(sub, raw, where) : scalarFromJson(field, raw, where);
}

/** Sets a dotted field from text values (path or query): repeated fields take every value, others the last. */
function setFromText(type: protobuf.Type, target: Plain, dotted: string, values: readonly string[]): void {
  const fields = resolveFieldPath(type, dotted);
  if (!fields) throw new JsonMappingError(`${type.name} has no field "${dotted}"`);
  let obj = target;
  for (const f of fields.slice(0, -1)) obj = (obj[f.name] ??= {}) as Plain;
  const leaf = fields[fields.length - 1]!;
  if (leaf.map) throw new JsonMappingError(`map field "${dotted}" cannot be set from the path or query`);
  const sub = leaf.resolvedType;
  const wkt = sub instanceof protobufJs().Type && sub.fullName.startsWith('.google.protobuf.');
  if (sub instanceof protobufJs().Type && !wkt) throw new JsonMappingError(`message field "${dotted}" cannot be set from the path or query; use its fields (${dotted}.x)`);
  obj[leaf.name] = leaf.repeated ? values.map((v) => leafValue(leaf, v, dotted)) : leafValue(leaf, values[values.length - 1]!, dotted);
}

export interface RestRequest {
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body; undefined when the request had none. */
  readonly body: unknown;
}

/** A plain object for `requestType.fromObject`; throws JsonMappingError for anything that does not fit. */
export function buildRequestObject(type: protobuf.Type, binding: HttpBinding, req: RestRequest): Plain {
  let message: Plain = {};
  const bound = new Set<string>();
  if (req.body !== undefined) {
    if (binding.body === '*') {
      message = jsonToPlain(type, req.body) as Plain;
    } else if (binding.body !== '') {
      const fields = resolveFieldPath(type, binding.body);
      const leaf = fields?.[fields.length - 1];
      const sub = leaf?.resolvedType;
      if (!fields || !leaf) throw new JsonMappingError(`${type.name} has no field "${binding.body}"`);
      let obj = message;
      for (const f of fields.slice(0, -1)) obj = (obj[f.name] ??= {}) as Plain;
      if (sub instanceof protobufJs().Type && !leaf.repeated) obj[leaf.name] = jsonToPlain(sub, req.body, binding.body);
      else if (leaf.repeated && Array.isArray(req.body)) obj[leaf.name] = req.body.map((v, i) => (sub instanceof protobufJs().Type ? jsonToPlain(sub, v, `${binding.body}[${i}]`) : scalarFromJson(leaf, v, `${binding.body}[${i}]`)));
      else obj[leaf.name] = scalarFromJson(leaf, req.body, binding.body);
      bound.add(fields.map((f) => f.name).join('.'));
    }
  }
  for (const pf of binding.pathFields) {
    setFromText(type, message, pf.field, [pathFieldValue(pf, req.params)]);
    bound.add(resolveFieldPath(type, pf.field)!.map((f) => f.name).join('.'));
  }
  for (const [key, value] of Object.entries(req.query)) {
    if (value === undefined) continue;
    if (binding.body === '*' && !binding.queryWithWholeBody) throw new JsonMappingError(`query parameter "${key}" is not allowed: the body holds the whole message`);
    const fields = resolveFieldPath(type, key);
    if (!fields) throw new JsonMappingError(`unknown query parameter "${key}": ${type.name} has no such field`);
    const canonical = fields.map((f) => f.name).join('.');
    for (const b of bound) {
      if (canonical === b || canonical.startsWith(`${b}.`)) throw new JsonMappingError(`query parameter "${key}" sets a field already bound by the path or body`);
    }
    setFromText(type, message, key, Array.isArray(value) ? value : [value]);
  }
  return message;
}

/** Verifies and encodes the message; throws JsonMappingError when protobufjs refuses it. */
export function encodeRequest(type: protobuf.Type, plain: Plain): Buffer {
  let message: protobuf.Message;
  try {
    message = type.fromObject(plain);
  } catch (err) {
    throw new JsonMappingError((err as Error).message);
  }
  const problem = type.verify(message);
  if (problem) throw new JsonMappingError(problem);
  return Buffer.from(type.encode(message).finish());
}
