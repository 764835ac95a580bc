/** Depth and array-length limits on a parsed JSON value. */
import type { Violation } from './violations.js';

export function checkLimits(value: unknown, maxDepth: number, maxArrayLength: number): Violation[] {
  const out: Violation[] = [];
  let depthReported = false;
  // Iterative walk: a hostile body must not overflow the stack.
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  while (stack.length > 0 && out.length < 100) {
    const { v, path, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) {
      if (!depthReported) out.push({ in: 'body', path, message: `nesting is deeper than ${maxDepth} levels` });
      depthReported = true;
      continue;
    }
    if (Array.isArray(v)) {
      if (v.length > maxArrayLength) {
        out.push({ in: 'body', path, message: `array has ${v.length} items, more than ${maxArrayLength}` });
        continue;
      }
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}/${i}`, depth: depth + 1 });
    } else {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ v: entries[i]![1], path: `${path}/${escape(entries[i]![0])}`, depth: depth + 1 });
    }
  }
  return out;
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
