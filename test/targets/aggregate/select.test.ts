import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileShape, readPath } from '../../../src/targets/aggregate/select.js';

test('select keeps nesting: b.c gives { b: { c } }; missing paths are left out', () => {
  const shape = compileShape({ select: ['a', 'b.c', 'nope.x'] });
  assert.deepEqual(shape({ a: 1, b: { c: 2, d: 3 }, e: 4 }), { a: 1, b: { c: 2 } });
});

test('select, omit and rename apply to each element of an array, nested arrays too', () => {
  const value = { items: [{ id: 1, tags: [{ k: 'x', v: 1 }] }, { id: 2, tags: [] }], total: 2 };
  assert.deepEqual(compileShape({ select: ['items.tags.k'] })(value), { items: [{ tags: [{ k: 'x' }] }, { tags: [] }] });
  assert.deepEqual(compileShape({ omit: ['items.tags', 'total'] })(value), { items: [{ id: 1 }, { id: 2 }] });
  assert.deepEqual(compileShape({ target: 'items', rename: { id: 'orderId' } })(value), [
    { orderId: 1, tags: [{ k: 'x', v: 1 }] },
    { orderId: 2, tags: [] },
  ]);
});

test('target picks a nested value (null when absent) before select; rename moves nested keys', () => {
  assert.equal(compileShape({ target: 'a.missing' })({ a: {} }), null);
  assert.deepEqual(compileShape({ target: 'data', select: ['x'] })({ data: { x: 1, y: 2 } }), { x: 1 });
  assert.deepEqual(compileShape({ rename: { 'a.b': 'c.d' } })({ a: { b: 1, k: 2 } }), { a: { k: 2 }, c: { d: 1 } });
  assert.deepEqual(readPath({ list: [{ id: 1 }, { id: 2 }] }, ['list', 'id']), [1, 2]);
});

test('scalars pass through every step unchanged', () => {
  assert.equal(compileShape({ select: ['a'], omit: ['b'], rename: { c: 'd' } })(5), 5);
});
