import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeTarget } from '../../src/routing/normalize-path.js';

const path = (t: string) => {
  const n = normalizeTarget(t);
  return n.ok ? n.url : `400: ${n.reason}`;
};

test('plain paths pass unchanged', () => {
  assert.equal(path('/api/orders/7?x=1'), '/api/orders/7?x=1');
  assert.equal(path('/'), '/');
});

test('dot segments, encoded dots and doubled slashes are resolved before routing', () => {
  assert.equal(path('/public/../admin'), '/admin');
  assert.equal(path('/public/%2e%2e/admin'), '/admin');
  assert.equal(path('/public/.%2e/admin'), '/admin');
  assert.equal(path('/a/./b/'), '/a/b/');
  assert.equal(path('//admin'), '/admin');
  assert.equal(path('/api//x'), '/api/x');
  assert.equal(path('/../../etc/passwd'), '/etc/passwd');
  assert.equal(path('/a/b/..'), '/a/');
});

test('unreserved escapes are decoded, others kept upper-cased', () => {
  assert.equal(path('/%61pi/x'), '/api/x');
  assert.equal(path('/files/a%2fb'), '/files/a%2Fb');
  assert.equal(path('/q/%3f%23'), '/q/%3F%23');
});

test('NUL, controls, backslashes and bad escapes are refused', () => {
  for (const bad of ['/a%00b', '/a%0d%0aSet-Cookie:x', '/a\\..\\admin', '/a/%5C../admin', '/a%zz', '/a%1']) {
    assert.match(path(bad), /^400: /, bad);
  }
});

test('absolute-form targets are routed by their path, never their host', () => {
  assert.equal(path('http://evil.example/admin?x=1'), '/admin?x=1');
  assert.equal(path('http://169.254.169.254'), '/');
  assert.equal(path('//169.254.169.254/latest'), '/169.254.169.254/latest');
});

test('normalisation is idempotent', () => {
  for (const t of ['/a/../b//c/%2e/%61', '/x/%2F/y', '/p/./q/../r/']) {
    const once = path(t);
    assert.equal(path(once), once, t);
  }
});
