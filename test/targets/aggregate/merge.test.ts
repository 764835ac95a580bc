import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compose, deepMerge } from '../../../src/targets/aggregate/merge.js';

const parts = [
  { as: '.', label: 'backends[0]', value: { k: 1, o: { a: 1 } } },
  { as: 'k', label: 'k', value: 'named' },
  { as: '.', label: 'backends[2]', value: { o: { b: 2 }, z: true } },
];

test('error: the first collision in config order is reported with both parts', () => {
  assert.deepEqual(compose(parts, 'error'), { ok: false, key: 'k', between: ['backends[0]', 'k'] });
});

test('first and last follow config order; keys keep their first position', () => {
  assert.deepEqual(compose(parts, 'first'), { ok: true, body: { k: 1, o: { a: 1 }, z: true } });
  const last = compose(parts, 'last');
  assert.deepEqual(last, { ok: true, body: { k: 'named', o: { b: 2 }, z: true } });
  assert.deepEqual(last.ok && Object.keys(last.body), ['k', 'o', 'z']);
});

test('deep-merge merges objects recursively, later scalars and arrays replace', () => {
  assert.deepEqual(compose(parts, 'deep-merge'), { ok: true, body: { k: 'named', o: { a: 1, b: 2 }, z: true } });
  assert.deepEqual(deepMerge({ a: [1], b: { c: 1 } }, { a: [2], b: { d: 2 } }), { a: [2], b: { c: 1, d: 2 } });
});

test('a "." part that is not an object (a failed optional one, null) adds nothing', () => {
  assert.deepEqual(compose([{ as: '.', label: 'backends[0]', value: null }, { as: 'x', label: 'x', value: 1 }], 'error'), { ok: true, body: { x: 1 } });
});
