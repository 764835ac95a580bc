import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyEwma } from '../../src/upstream/latency-ewma.js';

test('latency EWMA: no estimate before the first sample; the first sample is the estimate', () => {
  const e = new LatencyEwma(10_000);
  assert.equal(e.estimate(0), undefined);
  assert.equal(e.last, undefined);
  e.record(5, true, 0);
  assert.equal(e.last, 5);
  assert.equal(e.estimate(0), 5);
});

test('latency EWMA is peak-sensitive: a slower sample replaces the estimate at once', () => {
  const e = new LatencyEwma(10_000);
  e.record(10, true, 0);
  e.record(500, true, 1);
  assert.equal(e.last, 500);
});

test('latency EWMA: faster samples pull the estimate down in proportion to elapsed time', () => {
  const e = new LatencyEwma(1_000);
  e.record(100, true, 0);
  e.record(0, true, 1_000); // weight of the old value: e^-1
  assert.ok(Math.abs(e.last! - 100 * Math.exp(-1)) < 1e-9);
});

test('latency EWMA: decays towards zero while nothing is observed', () => {
  const e = new LatencyEwma(1_000);
  e.record(100, true, 0);
  assert.ok(Math.abs(e.estimate(2_000)! - 100 * Math.exp(-2)) < 1e-9);
  assert.equal(e.last, 100);
});

test('latency EWMA: a failure never lowers the estimate', () => {
  const e = new LatencyEwma(1_000);
  e.record(100, true, 0);
  e.record(1, false, 500);
  assert.equal(e.last, 100);
  e.record(300, false, 600);
  assert.equal(e.last, 300);
});
