import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createKeySet } from '../../../src/plugins/api-key/key-set.js';

const sha = (k: string) => createHash('sha256').update(k).digest('hex');

test('match returns the consumer of the one key that hashes equal, among many', () => {
  const keys = Array.from({ length: 50 }, (_, i) => ({ consumer: `c${i}`, sha256: sha(`key-${i}`) }));
  const set = createKeySet(keys);
  assert.equal(set.match('key-0'), 'c0');
  assert.equal(set.match('key-49'), 'c49');
  assert.equal(set.match('key-50'), undefined);
  assert.equal(set.match(''), undefined);
  assert.equal(set.match('key-1 '), undefined);
});

test('a UTF-8 key hashes as its UTF-8 bytes (as gatehouse hash-key does)', () => {
  const set = createKeySet([{ consumer: 'u', sha256: sha('clé-ключ') }]);
  assert.equal(set.match('clé-ключ'), 'u');
});
