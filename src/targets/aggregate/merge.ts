/**
 * Composition: parts in config order (never arrival order). A named part goes under its `as`;
 * a part with `as: "."` merges its object into the root, and keys that collide follow the
 * route's `conflict` policy.
 */

export type ConflictPolicy = 'error' | 'first' | 'last' | 'deep-merge';

export interface ComposedPart {
  /** `as` of the part; "." merges into the root. */
  readonly as: string;
  /** How the part is named in messages (`user`, `backends[2]`). */
  readonly label: string;
  readonly value: unknown;
}

export type Composition = { ok: true; body: Record<string, unknown> } | { ok: false; key: string; between: [string, string] };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Objects merge key by key, recursively; anything else: the later value wins. */
export function deepMerge(a: unknown, b: unknown): unknown {
  if (!isObject(a) || !isObject(b)) return b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out;
}

export function compose(parts: readonly ComposedPart[], policy: ConflictPolicy): Composition {
  const body: Record<string, unknown> = {};
  const owner = new Map<string, string>();
  const place = (key: string, value: unknown, label: string): Composition | undefined => {
    const prior = owner.get(key);
    if (prior === undefined) {
      body[key] = value;
      owner.set(key, label);
      return undefined;
    }
    switch (policy) {
      case 'error':
        return { ok: false, key, between: [prior, label] };
      case 'first':
        return undefined;
      case 'last':
        body[key] = value;
        owner.set(key, label);
        return undefined;
      case 'deep-merge':
        body[key] = deepMerge(body[key], value);
        return undefined;
    }
  };
  for (const part of parts) {
    if (part.as !== '.') {
      const failed = place(part.as, part.value, part.label);
      if (failed) return failed;
      continue;
    }
    if (!isObject(part.value)) continue;
    for (const [k, v] of Object.entries(part.value)) {
      const failed = place(k, v, part.label);
      if (failed) return failed;
    }
  }
  return { ok: true, body };
}
