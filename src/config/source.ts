/** A parsed config file that remembers where every key sits (line and column). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigIssue, Segment } from './diagnostics.js';
import { formatPath } from './diagnostics.js';
import { interpolate } from './interpolate.js';

export interface SourceFile {
  /** Path as shown in messages (relative to the working directory when inside it). */
  readonly display: string;
  /** Absolute path. */
  readonly absolute: string;
  readonly data: unknown;
  /** Line and column (1-based) of the key or item at `path`; the nearest existing parent when it is missing. */
  locate(path: readonly Segment[]): { line: number; col: number };
  issue(path: readonly Segment[], message: string): ConfigIssue;
}

export function displayPath(absolute: string): string {
  const rel = path.relative(process.cwd(), absolute);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : absolute;
}

function offsetOf(doc: Document, segments: readonly Segment[]): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

/** Parses YAML (or JSON, which YAML 1.2 reads too), interpolating `${VAR}` in place. */
export function parseSource(absolute: string, text: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): SourceFile | undefined {
  const display = displayPath(absolute);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  const source: SourceFile = {
    display,
    absolute,
    data: undefined,
    locate: (p) => at(offsetOf(doc, p)),
    issue: (p, message) => ({ file: display, ...at(offsetOf(doc, p)), path: formatPath(p), message }),
  };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const first = e.message.split('\n')[0] ?? e.message;
      issues.push({ file: display, ...at(e.pos[0]), path: '', message: `syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}` });
    }
    return undefined;
  }
  interpolate(doc, env, (offset, p, message) => issues.push({ file: display, ...at(offset), path: formatPath(p), message }));
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  return { ...source, data: data ?? {} };
}

export async function readSource(absolute: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): Promise<SourceFile | undefined> {
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    issues.push({ file: displayPath(absolute), line: 1, col: 1, path: '', message: `cannot read file: ${(err as Error).message}` });
    return undefined;
  }
  return parseSource(absolute, text, env, issues);
}
