import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { Retry } from '../../src/config/schema.js';
import { backoffDelay, mayRetry, retryPolicy } from '../../src/upstream/retry.js';

const configured = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { attempts: 3 })));
const builtIn = retryPolicy(undefined);

test('without a retry block only a connection that never opened, or a reset idempotent request, is retried once', () => {
  assert.equal(mayRetry(builtIn, 'POST', 'connect-error', 1, true), true);
  assert.equal(mayRetry(builtIn, 'GET', 'reset', 1, true), true);
  assert.equal(mayRetry(builtIn, 'POST', 'reset', 1, true), false);
  assert.equal(mayRetry(builtIn, 'GET', 503, 1, true), false);
  assert.equal(mayRetry(builtIn, 'GET', 'timeout', 1, true), false);
  assert.equal(mayRetry(builtIn, 'GET', 'connect-error', 2, true), false);
});

test('a configured policy retries its conditions for its methods, up to attempts', () => {
  assert.equal(mayRetry(configured, 'GET', 503, 1, true), true);
  assert.equal(mayRetry(configured, 'GET', 503, 3, true), true);
  assert.equal(mayRetry(configured, 'GET', 503, 4, true), false);
  assert.equal(mayRetry(configured, 'GET', 500, 1, true), false, '500 is not in the default on-list');
  assert.equal(mayRetry(configured, 'POST', 503, 1, true), false, 'POST is not idempotent');
  assert.equal(mayRetry(configured, 'POST', 'reset', 1, true), false, 'a POST that was sent is never retried');
  assert.equal(mayRetry(configured, 'POST', 'connect-error', 2, true), true, 'nothing was sent: safe for any method');
  assert.equal(mayRetry(configured, 'GET', 'timeout', 1, true), false, 'timeouts are not retried unless listed');
});

test('nothing is retried when the body cannot be sent again, the client left, or there was no target', () => {
  assert.equal(mayRetry(configured, 'PUT', 503, 1, false), false);
  assert.equal(mayRetry(configured, 'GET', 'client-gone', 1, true), false);
  assert.equal(mayRetry(configured, 'GET', 'no-target', 1, true), false);
  assert.equal(mayRetry(configured, 'GET', 'circuit-open', 1, true), false);
});

test('methods lists the methods retried beyond the idempotent ones', () => {
  const p = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { methods: ['GET', 'POST'] })));
  assert.equal(mayRetry(p, 'POST', 503, 1, true), true);
  assert.equal(mayRetry(p, 'PUT', 503, 1, true), false);
});

test('attempts: 0 turns off even the built-in retry', () => {
  const p = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { attempts: 0 })));
  assert.equal(mayRetry(p, 'GET', 'connect-error', 1, true), false);
  assert.equal(mayRetry(p, 'GET', 'reset', 1, true), false);
});

test('backoff grows exponentially, is jittered between half and all of its cap, and stops at maxBackoff', () => {
  const p = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { backoff: '100ms', maxBackoff: '300ms' })));
  assert.equal(backoffDelay(p, 1, () => 0), 50);
  assert.equal(backoffDelay(p, 1, () => 1), 100);
  assert.equal(backoffDelay(p, 2, () => 0), 100);
  assert.equal(backoffDelay(p, 2, () => 1), 200);
  assert.equal(backoffDelay(p, 3, () => 1), 300);
  assert.equal(backoffDelay(p, 8, () => 0), 150);
  assert.equal(backoffDelay(builtIn, 1, () => 1), 0, 'the built-in retry does not wait');
});

test('maxBackoff defaults to ten times backoff', () => {
  const p = retryPolicy(Value.Decode(Retry, Value.Default(Retry, { backoff: '10ms' })));
  assert.equal(p.maxBackoff, 100);
});
