/** google.api.http rules: reading them from method options, and compiling path templates to router paths. */
import type protobuf from 'protobufjs';
import type { HttpBinding, PathField, ValuePart } from './binding.js';

export interface HttpRule {
  readonly httpMethod: string;
  readonly template: string;
  readonly body: string;
}

type RawRule = Record<string, unknown>;

const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function ruleOf(raw: RawRule): HttpRule | string {
  for (const verb of VERBS) {
    if (typeof raw[verb] === 'string') return { httpMethod: verb.toUpperCase(), template: raw[verb] as string, body: typeof raw.body === 'string' ? raw.body : '' };
  }
  const custom = raw.custom as { kind?: unknown; path?: unknown } | undefined;
  if (custom && typeof custom.kind === 'string' && typeof custom.path === 'string') {
    return { httpMethod: custom.kind.toUpperCase(), template: custom.path, body: typeof raw.body === 'string' ? raw.body : '' };
  }
  return 'has a google.api.http rule without get, put, post, delete, patch or custom';
}

/** The method's rules, the primary one first, then additional_bindings; strings are problems. */
export function httpRules(method: protobuf.Method): (HttpRule | string)[] {
  const out: (HttpRule | string)[] = [];
  for (const opt of method.parsedOptions ?? []) {
    const raw = (opt as Record<string, unknown>)['(google.api.http)'] as RawRule | undefined;
    if (!raw) continue;
    out.push(ruleOf(raw));
    const extra = raw.additional_bindings ?? raw.additionalBindings;
    for (const b of Array.isArray(extra) ? extra : extra ? [extra] : []) out.push(ruleOf(b as RawRule));
  }
  return out;
}

/** Splits a template's path into segments, keeping "/" inside {var=a/*} together. */
function segmentsOf(path: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of path) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (depth < 0 || depth > 1) return undefined;
    if (ch === '/' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) return undefined;
  out.push(cur);
  return out;
}

const escapeLiteral = (s: string) => s.replace(/:/g, '::');
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;

/** Compiles `rule` under `prefix` to a router path and the fields its variables bind; a string is the problem. */
export function compileRule(rule: HttpRule, prefix: string): HttpBinding | string {
  const t = rule.template;
  if (!t.startsWith('/')) return `path template "${t}" must start with /`;
  const segments = segmentsOf(t.slice(1));
  if (!segments) return `path template "${t}" has unbalanced braces`;
  // A trailing ":verb" on the last segment.
  let verb = '';
  const lastSeg = segments[segments.length - 1]!;
  const colon = lastSeg.lastIndexOf(':');
  if (colon !== -1 && lastSeg.lastIndexOf('}') < colon) {
    if (lastSeg.startsWith('{') || lastSeg.slice(0, colon) === '*' || lastSeg.slice(0, colon) === '**') {
      return `path template "${t}": a :verb after a variable is not supported`;
    }
    verb = lastSeg.slice(colon + 1);
    segments[segments.length - 1] = lastSeg.slice(0, colon);
  }
  const router: string[] = [];
  const pathFields: PathField[] = [];
  let n = 0;
  const part = (s: string, last: boolean): ValuePart | string => {
    if (s === '*') {
      const name = `g${n++}`;
      router.push(`:${name}`);
      return { param: name };
    }
    if (s === '**') {
      if (!last) return `"**" must be the last segment of "${t}"`;
      router.push('*');
      return { param: '*' };
    }
    if (!LITERAL.test(s)) return `path template "${t}" has an invalid segment "${s}"`;
    router.push(escapeLiteral(s));
    return { literal: s };
  };
  for (const [i, seg] of segments.entries()) {
    const last = i === segments.length - 1;
    if (seg.startsWith('{')) {
      if (!seg.endsWith('}')) return `path template "${t}" has an invalid segment "${seg}"`;
      const inner = seg.slice(1, -1);
      const eq = inner.indexOf('=');
      const field = eq === -1 ? inner : inner.slice(0, eq);
      const pattern = eq === -1 ? '*' : inner.slice(eq + 1);
      if (!FIELD.test(field)) return `path template "${t}" binds an invalid field name "${field}"`;
      const subs = pattern.split('/');
      const parts: ValuePart[] = [];
      for (const [j, s] of subs.entries()) {
        const p = part(s, last && j === subs.length - 1);
        if (typeof p === 'string') return p;
        parts.push(p);
      }
      pathFields.push({ field, parts });
    } else {
      const p = part(seg, last);
      if (typeof p === 'string') return p;
    }
  }
  if (verb) {
    if (!LITERAL.test(verb)) return `path template "${t}" has an invalid verb "${verb}"`;
    router[router.length - 1] += `::${escapeLiteral(verb)}`;
  }
  const base = prefix.replace(/\/+$/, '');
  return { httpMethod: rule.httpMethod, path: `${base}/${router.join('/')}`, template: t, pathFields, body: rule.body, queryWithWholeBody: false };
}
