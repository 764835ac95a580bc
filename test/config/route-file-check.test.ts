import assert from 'node:assert/strict';
import { setImmediate as immediate } from 'node:timers/promises';
import { test } from 'node:test';
import { checkRouteFile } from '../../src/config/route-file-check.js';
import type { ConfigIssue } from '../../src/config/diagnostics.js';
import { RouteFile } from '../../src/config/schema.js';
import { parseSource } from '../../src/config/source.js';
import { check } from '../../src/config/validate.js';

function routeFile(count: number, extra: (i: number) => string = () => ''): string {
  let text = 'services:\n  svc: { discovery: { static: ["http://127.0.0.1:1"] } }\nroutes:\n';
  for (let i = 0; i < count; i++) text += `  - id: r${i}\n    match: { path: /r${i}/:id, methods: [GET] }\n    upstream: { service: svc }\n${extra(i)}`;
  return text;
}

function both(text: string): { whole: { value: unknown; issues: ConfigIssue[] }; split: Promise<{ value: unknown; issues: ConfigIssue[] }> } {
  const parsedIssues: ConfigIssue[] = [];
  const source = parseSource('/tmp/routes.d/big.yaml', text, {}, parsedIssues)!;
  assert.deepEqual(parsedIssues, []);
  const wholeIssues: ConfigIssue[] = [];
  const whole = { value: check(RouteFile, source.data, source, [], wholeIssues), issues: wholeIssues };
  const splitIssues: ConfigIssue[] = [];
  const split = checkRouteFile(source.data, source, splitIssues).then((value) => ({ value, issues: splitIssues }));
  return { whole, split };
}

test('a large route file checked route by route gives what the whole-file check gives', async () => {
  const { whole, split } = both(routeFile(250));
  const s = await split;
  assert.equal(whole.issues.length, 0);
  assert.deepEqual(s, whole);
});

test('a large route file with errors reports exactly the whole-file errors, in order', async () => {
  const text = `${routeFile(250, (i) => (i === 120 ? '    bogus: 1\n' : i === 7 ? '    timeout: soon\n' : ''))}streams: [ { id: s, listen: nope, service: svc } ]\nextra: true\n`;
  const { whole, split } = both(text);
  const s = await split;
  assert.ok(whole.issues.length >= 3, JSON.stringify(whole.issues));
  assert.equal(s.value, undefined);
  assert.deepEqual(s.issues, whole.issues);
});

test('a large route file lets the event loop run while it is checked', async () => {
  let turns = 0;
  let running = true;
  const ticker = (async () => {
    while (running) {
      await immediate();
      turns++;
    }
  })();
  const { split } = both(routeFile(1000));
  const before = turns;
  await split;
  const during = turns - before;
  running = false;
  await ticker;
  assert.ok(during >= 5, `the event loop ran ${during} times during the check`);
});
