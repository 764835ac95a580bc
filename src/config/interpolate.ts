/** `${VAR}` and `${VAR:-default}` replaced from the environment in every string scalar; `$${` is a literal `${`. */
import { isPair, isScalar, isSeq, visit, type Document } from 'yaml';
import type { Segment } from './diagnostics.js';

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

type Report = (offset: number, path: Segment[], message: string) => void;

/** A plain scalar that was only a reference takes the type its value reads as (`port: ${PORT:-8080}` is a number). */
function typed(value: string): string | number | boolean {
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

export function interpolate(doc: Document, env: NodeJS.ProcessEnv, report: Report): void {
  visit(doc, {
    Scalar(_key, node, ancestry) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const original = node.value;
      const path: Segment[] = [];
      ancestry.forEach((a, i) => {
        const child = ancestry[i + 1] ?? node;
        if (isPair(a) && isScalar(a.key)) path.push(String(a.key.value));
        else if (isSeq(a)) path.push(a.items.indexOf(child as never));
      });
      let missing = false;
      const replaced = original.replace(REF, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        const value = env[name!];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        if (value === '') return '';
        missing = true;
        report(node.range?.[0] ?? 0, path, `environment variable ${name} is not set and has no default (write \${${name}:-default})`);
        return '';
      });
      if (missing) return;
      node.value = node.type === 'PLAIN' && WHOLE.test(original) ? typed(replaced) : replaced;
    },
  });
}
