import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigIssue } from '../../src/config/diagnostics.js';
import { parseSource } from '../../src/config/source.js';

const PLAIN = `services:
  svc:
    discovery: { static: ["http://127.0.0.1:1"] }
routes:
  - id: a
    match: { path: /a, methods: [GET] }
    upstream: { service: svc, timeout: 2s }
  - id: b
    match: { path: "/b/:id" }
    upstream: { service: svc }
`;

test('plain files (js-yaml) and files that need the full parser give the same data', () => {
  const issues: ConfigIssue[] = [];
  const fast = parseSource('/x/a.yaml', PLAIN, {}, issues);
  // An anchor sends the same document through the yaml parser.
  const full = parseSource('/x/b.yaml', PLAIN.replace('services:', 'x-anchor: &a 1\nservices:'), {}, issues);
  assert.deepEqual(issues, []);
  const { ['x-anchor']: anchor, ...rest } = full!.data as Record<string, unknown>;
  assert.equal(anchor, 1);
  assert.deepEqual(fast!.data, rest);
});

test('positions in a plain file are exact, though looked up only when asked for', () => {
  const src = parseSource('/x/a.yaml', PLAIN, {}, [])!;
  assert.deepEqual(src.locate(['routes', 1, 'match', 'path']), { line: 9, col: 14 });
  assert.deepEqual(src.locate(['routes', 0, 'upstream', 'timeout']), { line: 7, col: 31 });
  const issue = src.issue(['routes', 1, 'id'], 'bad');
  assert.equal(`${issue.line}:${issue.col} ${issue.path}`, '8:5 routes[1].id');
});

test('a duplicate key or a syntax error in a plain file is reported with its position', () => {
  const dup: ConfigIssue[] = [];
  assert.equal(parseSource('/x/a.yaml', 'routes: []\nservices: {}\nroutes: []\n', {}, dup), undefined);
  assert.equal(dup.length, 1);
  assert.equal(dup[0]!.line, 3);
  assert.match(dup[0]!.message, /syntax error/);
  const bad: ConfigIssue[] = [];
  assert.equal(parseSource('/x/a.yaml', 'routes:\n  - id: a\n   match: {\n', {}, bad), undefined);
  assert.ok(bad.length > 0 && bad.every((i) => i.line >= 2), JSON.stringify(bad));
});

test('quoted and plain ${VAR} keep their meaning (the full parser handles them)', () => {
  const src = parseSource('/x/a.yaml', 'a: ${P}\nb: "${P}"\n', { P: '8080' }, [])!;
  assert.deepEqual(src.data, { a: 8080, b: '8080' });
});

test('documents where js-yaml and YAML 1.2 could disagree read as the yaml parser reads them', async () => {
  const { parse } = await import('yaml');
  const docs = [
    'a: 0b101\nb: -0x1F\nc: +0x1F\nd: -0o17\ne: +0o17\nf: -0b1\n',
    'a: +.5\nb: -.5\nc: .5\n',
    '%YAML 1.1\n---\na: yes\nb: 017\n',
    'null: 1\n',
    'x: { ~: 2 }\n',
    '[a, b]: 1\n',
    '? complex\n: value\n',
    'a: 1_000\nb: 0o17\nc: 0x1F\nd: 017\ne: True\nf: ~\ng: NULL\nh: .inf\ni: -.INF\nj: .nan\n',
    '',
    '# only a comment\n',
    'routes: []\n',
  ];
  for (const text of docs) {
    const src = parseSource('/x/a.yaml', text, {}, []);
    assert.ok(src, text);
    const want = (parse(text) as unknown) ?? {};
    if (typeof want === 'object' && want !== null && Number.isNaN((want as { j?: number }).j)) {
      assert.ok(Number.isNaN((src.data as { j: number }).j), text);
      delete (want as { j?: number }).j;
      delete (src.data as { j?: number }).j;
    }
    assert.deepEqual(src.data, want, JSON.stringify(text));
  }
});
