import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTargetValue } from '../../src/discovery/target-value.js';
import { targetUrlOf } from '../../src/discovery/target-url.js';

test('registry values: a URL or {"url","weight"} JSON, checked against the protocol', () => {
  assert.deepEqual(parseTargetValue('http://10.0.0.5:3000', 'http'), { ok: true, target: { url: 'http://10.0.0.5:3000', weight: 1 } });
  assert.deepEqual(parseTargetValue(' {"url": "http://10.0.0.5:3000/", "weight": 4} ', 'http'), { ok: true, target: { url: 'http://10.0.0.5:3000', weight: 4 } });
  assert.deepEqual(parseTargetValue('{"url": "https://a.internal"}', 'https'), { ok: true, target: { url: 'https://a.internal', weight: 1 } });
  for (const bad of ['{"url": 1}', '{"url": "http://a:1", "weight": 0}', '{"url": "http://a:1", "weight": 2.5}', '{nope', '[]', 'http://a:1/path', 'https://a:1', 'a:1']) {
    assert.equal(parseTargetValue(bad, 'http').ok, false, bad);
  }
});

test('DNS answers become protocol://host:port (IPv6 bracketed, trailing dot dropped)', () => {
  assert.equal(targetUrlOf('http', '10.0.0.1', 80), 'http://10.0.0.1:80');
  assert.equal(targetUrlOf('https', 'node-1.orders.svc.cluster.local.', 8443), 'https://node-1.orders.svc.cluster.local:8443');
  assert.equal(targetUrlOf('http', 'fd00::1', 3000), 'http://[fd00::1]:3000');
});
