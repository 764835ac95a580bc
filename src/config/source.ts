/** A parsed config file that remembers where every key sits (line and column). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import jsyaml from 'js-yaml';
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

interface Positioned {
  doc: Document;
  at(offset: number): { line: number; col: number };
}

function positioned(text: string): Positioned {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  return { doc, at: (offset) => lineCounter.linePos(offset) };
}

function sourceFile(display: string, absolute: string, data: unknown, positions: () => Positioned): SourceFile {
  const locate = (p: readonly Segment[]) => {
    const { doc, at } = positions();
    return at(offsetOf(doc, p));
  };
  return { display, absolute, data, locate, issue: (p, message) => ({ file: display, ...locate(p), path: formatPath(p), message }) };
}

/**
 * Texts js-yaml may not read, because interpolation needs to know plain from quoted scalars
 * (`${VAR}`) or because its core schema reads them otherwise than the yaml parser's YAML 1.2:
 * anchors, merge keys and tags; directives (`%YAML 1.1`); binary and signed hex/octal numbers;
 * `+.5`; null or flow-collection keys; explicit `?` keys.
 */
const NEEDS_FULL_PARSER = /\$\{|[&!]|<<|^%|0b|[-+]0[xo]|[-+]\.\d|(?:^|[\s{,])(?:~|null|Null|NULL)\s*:|[\]}]\s*:|^\s*\?(?:\s|$)/m;

/**
 * Parses YAML (or JSON, which YAML 1.2 reads too), interpolating `${VAR}` in place. Plain files
 * are read by js-yaml (about ten times faster: 10,000 routes load in a fraction of the time), and
 * positions for messages come from the full parser only when one is asked for; anything else,
 * and any file js-yaml refuses, goes through the \`yaml\` parser with its exact error positions.
 */
export function parseSource(absolute: string, text: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): SourceFile | undefined {
  const display = displayPath(absolute);
  if (!NEEDS_FULL_PARSER.test(text)) {
    let data: unknown;
    let read = true;
    try {
      data = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, json: false });
    } catch {
      read = false;
    }
    if (read) {
      let parsed: Positioned | undefined;
      return sourceFile(display, absolute, data ?? {}, () => (parsed ??= positioned(text)));
    }
  }
  const full = positioned(text);
  const { doc, at } = full;
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const first = e.message.split('\n')[0] ?? e.message;
      issues.push({ file: display, ...at(e.pos[0]), path: '', message: `syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}` });
    }
    return undefined;
  }
  interpolate(doc, env, (offset, p, message) => issues.push({ file: display, ...at(offset), path: formatPath(p), message }));
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  return sourceFile(display, absolute, data ?? {}, () => full);
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
