/**
 * The proto3 JSON mapping: lowerCamelCase names, int64 as strings, enums as names,
 * bytes as base64, Timestamp as RFC 3339 and Duration as "1.5s".
 */
import type protobuf from 'protobufjs';
import { protobufJs } from './deps.js';

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: true, arrays: true, objects: false, json: true };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class JsonMappingError extends Error {}

function isType(t: unknown): t is protobuf.Type {
  return t instanceof protobufJs().Type;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function fraction(nanos: number): string {
  if (nanos === 0) return '';
  const s = pad(nanos, 9);
  return `.${s.endsWith('000000') ? s.slice(0, 3) : s.endsWith('000') ? s.slice(0, 6) : s}`;
}

function timestampToJson(v: { seconds?: string | number; nanos?: number }): string {
  const seconds = Number(v.seconds ?? 0);
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new JsonMappingError('Timestamp out of range');
  return `${date.toISOString().slice(0, 19)}${fraction(v.nanos ?? 0)}Z`;
}

function durationToJson(v: { seconds?: string | number; nanos?: number }): string {
  const seconds = BigInt(v.seconds ?? 0);
  const nanos = v.nanos ?? 0;
  const negative = seconds < 0n || nanos < 0;
  const abs = (seconds < 0n ? -seconds : seconds).toString();
  return `${negative ? '-' : ''}${abs}${fraction(Math.abs(nanos))}s`;
}

/** Zero nanos are left out: protobufjs would put an explicit 0 on the wire. */
function secondsNanos(seconds: string, nanos: number): { seconds: string; nanos?: number } {
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

function timestampFromJson(v: unknown): { seconds: string; nanos?: number } {
  if (typeof v !== 'string') throw new JsonMappingError('a Timestamp must be an RFC 3339 string');
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/i.exec(v);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
  if (!m || Number.isNaN(ms)) throw new JsonMappingError(`"${v}" is not an RFC 3339 timestamp`);
  return secondsNanos(String(Math.floor(ms / 1000)), m[2] ? Number(m[2].slice(1).padEnd(9, '0')) : 0);
}

function durationFromJson(v: unknown): { seconds: string; nanos?: number } {
  const m = typeof v === 'string' ? /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(v) : null;
  if (!m) throw new JsonMappingError(`${JSON.stringify(v)} is not a duration such as "1.5s"`);
  const sign = m[1] ? -1 : 1;
  const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
  return secondsNanos(`${m[1] ?? ''}${m[2]}`, sign * nanos);
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));

/** A decoded message as proto3 JSON; `defaults: false` leaves unset fields out. */
export function messageToJson(type: protobuf.Type, message: protobuf.Message, options: { defaults?: boolean } = {}): Json {
  const defaults = options.defaults ?? true;
  return convertOut(type, type.toObject(message, { ...TO_OBJECT, defaults, arrays: defaults }) as Record<string, unknown>);
}

function convertOut(type: protobuf.Type, obj: Record<string, unknown>): Json {
  switch (type.fullName) {
    case '.google.protobuf.Timestamp':
      return timestampToJson(obj as { seconds?: string; nanos?: number });
    case '.google.protobuf.Duration':
      return durationToJson(obj as { seconds?: string; nanos?: number });
  }
  if (WRAPPERS.has(type.fullName)) return (obj.value ?? null) as Json;
  const out: Record<string, Json> = {};
  for (const field of type.fieldsArray) {
    const value = obj[field.name];
    const sub = field.resolvedType;
    if (value === undefined) continue;
    if (value === null || !isType(sub)) {
      out[field.name] = value as Json;
    } else if (field.map) {
      out[field.name] = Object.fromEntries(Object.entries(value as Record<string, Record<string, unknown>>).map(([k, v]) => [k, convertOut(sub, v)]));
    } else if (field.repeated) {
      out[field.name] = (value as Record<string, unknown>[]).map((v) => convertOut(sub, v));
    } else {
      out[field.name] = convertOut(sub, value as Record<string, unknown>);
    }
  }
  return out;
}

/** The field a JSON key names: its lowerCamelCase JSON name or its original proto name. */
export function fieldByJsonName(type: protobuf.Type, key: string): protobuf.Field | undefined {
  const direct = type.fields[key];
  if (direct) return direct;
  return type.fieldsArray.find((f) => protobufJs().util.camelCase(key) === f.name);
}

/** Converts proto3 JSON into the plain object protobufjs's fromObject takes; throws JsonMappingError. `lenient` skips unknown keys. */
export function jsonToPlain(type: protobuf.Type, value: unknown, at = '', lenient = false): unknown {
  switch (type.fullName) {
    case '.google.protobuf.Timestamp':
      return timestampFromJson(value);
    case '.google.protobuf.Duration':
      return durationFromJson(value);
  }
  if (WRAPPERS.has(type.fullName)) return { value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JsonMappingError(`${at || 'the body'} must be a JSON object`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = fieldByJsonName(type, key);
    const where = at ? `${at}.${key}` : key;
    if (!field) {
      if (lenient) continue;
      throw new JsonMappingError(`${type.name} has no field "${where}"`);
    }
    out[field.name] = fieldFromJson(field, v, where, lenient);
  }
  return out;
}

function fieldFromJson(field: protobuf.Field, v: unknown, where: string, lenient: boolean): unknown {
  if (v === null) return undefined;
  const sub = field.resolvedType;
  if (field.map) {
    if (typeof v !== 'object' || Array.isArray(v)) throw new JsonMappingError(`${where} must be a JSON object`);
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, isType(sub) ? jsonToPlain(sub, x, `${where}.${k}`, lenient) : scalarFromJson(field, x, `${where}.${k}`)]));
  }
  if (field.repeated) {
    if (!Array.isArray(v)) throw new JsonMappingError(`${where} must be a JSON array`);
    return v.map((x, i) => (isType(sub) ? jsonToPlain(sub, x, `${where}[${i}]`, lenient) : scalarFromJson(field, x, `${where}[${i}]`)));
  }
  return isType(sub) ? jsonToPlain(sub, v, where, lenient) : scalarFromJson(field, v, where);
}

const INTS = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const LONGS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** A JSON (or query-string) value for a scalar or enum field. */
export function scalarFromJson(field: protobuf.Field, v: unknown, where: string): unknown {
  const t = field.type;
  const bad = (what: string) => new JsonMappingError(`${where} must be ${what}, got ${JSON.stringify(v)}`);
  if (field.resolvedType instanceof protobufJs().Enum) {
    const e = field.resolvedType;
    if (typeof v === 'string' && v in e.values) return v;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
    throw bad(`one of ${Object.keys(e.values).join(', ')}`);
  }
  if (t === 'string') {
    if (typeof v !== 'string') throw bad('a string');
    return v;
  }
  if (t === 'bool') {
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw bad('true or false');
  }
  if (INTS.has(t) || LONGS.has(t)) {
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string' || !/^-?\d+$/.test(s)) throw bad('an integer');
    if (t.startsWith('u') && s.startsWith('-')) throw bad('a non-negative integer');
    return LONGS.has(t) ? s : Number(s);
  }
  if (t === 'double' || t === 'float') {
    if (typeof v === 'number') return v;
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
    if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
    throw bad('a number');
  }
  if (t === 'bytes') {
    if (typeof v !== 'string') throw bad('base64 text');
    return Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  throw bad(`a ${t}`);
}
