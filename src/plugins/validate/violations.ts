/** Violations as the 400 VALIDATION_FAILED answer lists them. */
import type { ErrorObject } from 'ajv';

export type Part = 'query' | 'params' | 'headers' | 'body';

export interface Violation {
  readonly in: Part;
  /** JSON Pointer into the part (`/items/0/id`; `/limit` for a query parameter; `` for the whole part). */
  readonly path: string;
  readonly message: string;
}

export function fromAjv(part: Part, errors: readonly ErrorObject[] | null | undefined): Violation[] {
  const out: Violation[] = [];
  for (const e of errors ?? []) {
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
      path = `${path}/${p.missingProperty}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
      path = `${path}/${p.additionalProperty}`;
      message = 'is not allowed';
    } else if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) {
      message = `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    out.push({ in: part, path, message });
  }
  return out;
}
