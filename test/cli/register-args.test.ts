import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registerArgs } from '../../src/cli/register-args.js';

const base = { redis: 'redis://127.0.0.1:6379', key: 'services:orders', url: 'http://10.0.0.5:3000' };

test('register flags: ttl as a duration or milliseconds (10s by default), optional weight', () => {
  assert.deepEqual(registerArgs({ ...base }), { ok: true, ...base, ttl: 10_000 });
  assert.deepEqual(registerArgs({ ...base, ttl: '2s', weight: '3' }), { ok: true, ...base, ttl: 2000, weight: 3 });
  assert.deepEqual(registerArgs({ ...base, ttl: '1500' }), { ok: true, ...base, ttl: 1500 });
});

test('register flags: missing --redis/--key/--url, a bad or too short ttl, a bad weight are refused', () => {
  for (const missing of ['redis', 'key', 'url'] as const) {
    const r = registerArgs({ ...base, [missing]: undefined });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /--redis URL, --key KEY and --url TARGET/);
  }
  for (const ttl of ['soon', '500ms', '0']) {
    const r = registerArgs({ ...base, ttl });
    assert.match(!r.ok ? r.error : 'accepted', /--ttl/, ttl);
  }
  const w = registerArgs({ ...base, weight: 'heavy' });
  assert.match(!w.ok ? w.error : 'accepted', /--weight/);
});
