import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RETRY_BUDGET, RetryBudget } from '../../src/upstream/retry-budget.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function withdrawAll(budget: RetryBudget, limit = 10_000): number {
  let n = 0;
  while (n < limit && budget.tryWithdraw()) n++;
  return n;
}

test('the defaults are 20% of requests plus 3 retries per second over 10s', () => {
  assert.deepEqual(DEFAULT_RETRY_BUDGET, { percent: 20, minPerSecond: 3, window: 10_000 });
});

test('retries are capped at percent of the requests in the window when there is no floor', () => {
  const c = clock();
  const budget = new RetryBudget({ percent: 20, minPerSecond: 0, window: 10_000 }, c.now);
  assert.equal(budget.tryWithdraw(), false, 'no traffic, no floor: nothing to spend');
  for (let i = 0; i < 100; i++) budget.recordRequest();
  assert.equal(withdrawAll(budget), 20);
  for (let i = 0; i < 10; i++) budget.recordRequest();
  assert.equal(withdrawAll(budget), 2);
});

test('the floor allows minPerSecond x window retries without traffic', () => {
  const c = clock();
  const budget = new RetryBudget({ percent: 20, minPerSecond: 3, window: 10_000 }, c.now);
  assert.equal(withdrawAll(budget), 30);
});

test('requests and retries older than the window stop counting', () => {
  const c = clock();
  const budget = new RetryBudget({ percent: 50, minPerSecond: 0, window: 1_000 }, c.now);
  for (let i = 0; i < 10; i++) budget.recordRequest();
  assert.equal(withdrawAll(budget), 5);
  c.advance(1_100);
  assert.equal(budget.tryWithdraw(), false, 'the old requests left the window');
  for (let i = 0; i < 4; i++) budget.recordRequest();
  assert.equal(withdrawAll(budget), 2, 'the old retries left the window too');
});

test('a long idle gap empties every bucket', () => {
  const c = clock();
  const budget = new RetryBudget({ percent: 100, minPerSecond: 0, window: 1_000 }, c.now);
  for (let i = 0; i < 50; i++) budget.recordRequest();
  c.advance(60_000);
  assert.equal(budget.tryWithdraw(), false);
});
