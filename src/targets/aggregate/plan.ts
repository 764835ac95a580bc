/**
 * The plan of an aggregate route, made once at load: each backend's compiled templates and
 * the backends it waits for (those whose results its templates read). Unknown references,
 * unknown path parameters and dependency cycles are reported as config problems.
 */
import type { AggregateBackendConfig, AggregateConfig } from '../../config/schema.js';
import type { Segment } from '../../config/diagnostics.js';
import { didYouMean } from '../../config/suggest.js';
import { compileShape } from './select.js';
import { compileValue, isRequestSource, parseTemplate, requestRefProblem, type ParsedTemplate, type Ref, type ValueTemplate } from './template.js';
import type { ConflictPolicy } from './merge.js';

export interface PlannedBackend {
  readonly index: number;
  readonly config: AggregateBackendConfig;
  /** `as`, or `backends[i]` for a part merged into the root: how messages name it. */
  readonly label: string;
  /** Its Server-Timing name: `as`, with "." as `root`. */
  readonly timingName: string;
  /** Indexes of the backends whose results it reads. */
  readonly deps: readonly number[];
  readonly path: ParsedTemplate;
  readonly query: readonly (readonly [string, ParsedTemplate])[];
  readonly headers: readonly (readonly [string, ParsedTemplate])[];
  readonly body?: ValueTemplate;
  readonly shape: (value: unknown) => unknown;
}

export interface AggregatePlan {
  readonly backends: readonly PlannedBackend[];
  readonly timeout: number;
  readonly conflict: ConflictPolicy;
  readonly template?: ValueTemplate;
  /** Some backend sends or reads the client's body. */
  readonly readsBody: boolean;
  /** Service names in config order, without repeats. */
  readonly services: readonly string[];
}

export interface PlanProblem {
  /** Relative to the route's `aggregate` key. */
  readonly path: Segment[];
  readonly message: string;
}

/** Names of the `:params` (and `*`) of a find-my-way path. */
export function routeParams(routePath: string): string[] {
  const names = [...routePath.replace(/::/g, '').matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  if (routePath.includes('*')) names.push('*');
  return names;
}

export function planAggregate(config: AggregateConfig, routePath: string): { plan?: AggregatePlan; problems: PlanProblem[] } {
  const problems: PlanProblem[] = [];
  const params = routeParams(routePath);
  const byName = new Map<string, number>();
  config.backends.forEach((b, i) => {
    if (b.as === '.') return;
    if (isRequestSource(b.as)) {
      problems.push({ path: ['backends', i, 'as'], message: `"${b.as}" is reserved for request values; choose another name` });
      return;
    }
    const prior = byName.get(b.as);
    if (prior !== undefined) problems.push({ path: ['backends', i, 'as'], message: `"${b.as}" is already the as of backends[${prior}]` });
    else byName.set(b.as, i);
  });

  /** Checks one reference; returns the backend index it reads, if any. */
  const checkRef = (ref: Ref, at: Segment[]): number | undefined => {
    if (isRequestSource(ref.root)) {
      const bad = requestRefProblem(ref);
      if (bad) problems.push({ path: at, message: bad });
      else if (ref.root === 'params' && !params.includes(ref.path.join('.'))) {
        const name = ref.path.join('.');
        const known = params.length ? `; the route path ${routePath} has ${params.map((p) => `:${p}`).join(', ')}` : `; the route path ${routePath} has none`;
        problems.push({ path: at, message: `unknown path parameter ${ref.text}${didYouMean(name, params)}${known}` });
      }
      return undefined;
    }
    const dep = byName.get(ref.root);
    if (dep === undefined) {
      problems.push({
        path: at,
        message: `unknown reference ${ref.text}: no backend has as: ${ref.root}${didYouMean(ref.root, [...byName.keys(), ...['params', 'query', 'header', 'jwt', 'body']])}`,
      });
    }
    return dep;
  };

  let readsBody = false;
  const backends: PlannedBackend[] = config.backends.map((b, i) => {
    const at: Segment[] = ['backends', i];
    const deps = new Set<number>();
    const use = (refs: readonly Ref[], where: Segment[]) => {
      for (const ref of refs) {
        if (ref.root === 'body') readsBody = true;
        const d = checkRef(ref, where);
        if (d !== undefined) deps.add(d);
      }
    };
    const path = parseTemplate(b.path);
    use(path.refs, [...at, 'path']);
    const query = Object.entries(b.query).map(([k, v]) => {
      const t = parseTemplate(v);
      use(t.refs, [...at, 'query', k]);
      return [k, t] as const;
    });
    const headers = Object.entries(b.headers).map(([k, v]) => {
      const t = parseTemplate(v);
      use(t.refs, [...at, 'headers', k]);
      return [k.toLowerCase(), t] as const;
    });
    const body = b.body === undefined ? undefined : compileValue(b.body);
    for (const { ref, at: inner } of body?.refs ?? []) use([ref], [...at, 'body', ...inner]);
    if (b.body !== undefined && b.forwardBody) problems.push({ path: [...at, 'forwardBody'], message: 'use either body or forwardBody, not both' });
    if (b.forwardBody) readsBody = true;
    return {
      index: i,
      config: b,
      label: b.as === '.' ? `backends[${i}]` : b.as,
      timingName: b.as === '.' ? 'root' : b.as,
      deps: [...deps].sort((x, y) => x - y),
      path,
      query,
      headers,
      body,
      shape: compileShape(b),
    };
  });

  // Cycles: depth-first, each reported once at the backend that closes it.
  const state = new Array<0 | 1 | 2>(backends.length).fill(0);
  const stack: number[] = [];
  const visit = (i: number) => {
    state[i] = 1;
    stack.push(i);
    for (const d of backends[i]!.deps) {
      if (state[d] === 1) {
        const cycle = [...stack.slice(stack.indexOf(d)), d].map((x) => backends[x]!.label);
        problems.push({ path: ['backends', i, 'as'], message: `dependency cycle: ${cycle.join(' -> ')}` });
      } else if (state[d] === 0) visit(d);
    }
    stack.pop();
    state[i] = 2;
  };
  backends.forEach((_b, i) => state[i] === 0 && visit(i));

  let template: ValueTemplate | undefined;
  if (config.template !== undefined) {
    template = compileValue(config.template);
    config.backends.forEach((b, i) => {
      if (b.as === '.') problems.push({ path: ['backends', i, 'as'], message: 'with a template, a part merged into the root is never used; give it a name and read it in the template' });
    });
    for (const { ref, at } of template.refs) {
      if (ref.root === 'body') readsBody = true;
      checkRef(ref, ['template', ...at]);
    }
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    plan: {
      backends,
      timeout: config.timeout,
      conflict: config.conflict,
      template,
      readsBody,
      services: [...new Set(config.backends.map((b) => b.service))],
    },
  };
}
