import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ERRORS, problemBody } from '../src/errors.js';

test('every error code in the table is documented in docs/errors.md with its status', () => {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../docs/errors.md'), 'utf8');
  for (const [code, { status }] of Object.entries(ERRORS)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), code);
  }
});

test('problem bodies carry type, title, status, detail, code and requestId', () => {
  const body = problemBody('UPSTREAM_TIMEOUT', 'rid-1', 'slow');
  assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'requestId', 'status', 'title', 'type']);
  assert.equal(body.status, 504);
  assert.equal(body.requestId, 'rid-1');
});
