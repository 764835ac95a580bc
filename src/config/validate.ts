/** Checks a value against a TypeBox schema, filling defaults; every failure becomes a positioned issue. */
import { Kind, type StaticDecode, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { ConfigIssue, Segment } from './diagnostics.js';
import type { SourceFile } from './source.js';
import { didYouMean } from './suggest.js';

function segmentsOf(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function propertyNames(schema: TSchema): string[] {
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  return props ? Object.keys(props) : [];
}

function message(error: ValueError, last: Segment | undefined): string {
  const s = error.schema as TSchema & Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return `unknown key "${String(last)}"${didYouMean(String(last), propertyNames(s))}`;
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    default:
      break;
  }
  if (typeof s.errorMessage === 'string') return s.errorMessage;
  switch (error.type) {
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.Number:
      return 'must be a number';
    case ValueErrorType.Integer:
      return 'must be a whole number';
    case ValueErrorType.Boolean:
      return 'must be true or false';
    case ValueErrorType.Array:
      return 'must be a list';
    case ValueErrorType.Object:
      return 'must be a map of keys to values';
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be >= ${String(s.minimum)}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be <= ${String(s.maximum)}`;
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? 'must not be empty' : `must be at least ${String(s.minLength)} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${String(s.maxLength)} characters`;
    case ValueErrorType.StringPattern:
      return `must match ${String(s.pattern)}`;
    case ValueErrorType.ArrayMinItems:
      return `must list at least ${String(s.minItems)} item${s.minItems === 1 ? '' : 's'}`;
    case ValueErrorType.ArrayMaxItems:
      return `must list at most ${String(s.maxItems)} items`;
    case ValueErrorType.ArrayUniqueItems:
      return 'must not repeat an item';
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(s.const)}`;
    case ValueErrorType.ObjectMinProperties:
      return `must have at least ${String(s.minProperties)} key${s.minProperties === 1 ? '' : 's'}`;
    case ValueErrorType.ObjectMaxProperties:
      return `must have at most ${String(s.maxProperties)} key${s.maxProperties === 1 ? '' : 's'}`;
    default:
      return error.message.replace(/^Expected/, 'must be');
  }
}

/**
 * Validates `value` (already cloned by the caller or fresh from the parser) against `schema`
 * after filling defaults. Returns the decoded value, or undefined after pushing issues.
 */
export function check<S extends TSchema>(
  schema: S,
  value: unknown,
  source: SourceFile,
  base: readonly Segment[],
  issues: ConfigIssue[],
): StaticDecode<S> | undefined {
  // Defaults first, then the conversions YAML users expect ("8080" from ${PORT} where a number belongs).
  const withDefaults = Value.Convert(schema, Value.Default(schema, Value.Clone(value ?? (schema[Kind] === 'Object' ? {} : value))));
  const seen = new Set<string>();
  let failed = false;
  for (const error of Value.Errors(schema, withDefaults)) {
    const rel = segmentsOf(error.path);
    const key = error.path;
    if (seen.has(key)) continue;
    // An inner error already explains this one (a failing child also fails its parent union).
    if ([...seen].some((k) => k.startsWith(`${key}/`))) continue;
    seen.add(key);
    failed = true;
    const path = [...base, ...rel];
    issues.push(source.issue(path, message(error, rel[rel.length - 1])));
  }
  if (failed) return undefined;
  return Value.Decode(schema, withDefaults);
}
