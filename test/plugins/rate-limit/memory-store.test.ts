import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryStore } from '../../../src/plugins/rate-limit/memory-store.js';

const W = 1000;

async function burst(store: { hit(k: string): Promise<{ allowed: boolean }> }, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) if ((await store.hit('k')).allowed) ok++;
  return ok;
}

test('memory sliding window: a burst on each side of a window edge never exceeds the limit', async () => {
  let now = 10 * W - 1; // the last millisecond of a fixed window
  const store = memoryStore('r', { limit: 5, windowMs: W, algorithm: 'sliding-window' }, () => now);
  assert.equal(await burst(store, 5), 5);
  now += 2; // just past the edge
  assert.equal(await burst(store, 5), 0, 'the five accepted 2ms ago still count');
  now += W - 2; // exactly one window after the first burst
  assert.equal(await burst(store, 6), 5);
});

test('memory fixed window: counts restart at each aligned window edge', async () => {
  let now = 10 * W - 1;
  const store = memoryStore('r', { limit: 5, windowMs: W, algorithm: 'fixed-window' }, () => now);
  assert.equal(await burst(store, 6), 5);
  now += 2;
  assert.equal(await burst(store, 6), 5);
});

test('memory store: remaining and reset describe the window', async () => {
  let now = 5 * W + 250;
  const store = memoryStore('r', { limit: 2, windowMs: W, algorithm: 'fixed-window' }, () => now);
  assert.deepEqual(await store.hit('k'), { allowed: true, remaining: 1, resetMs: 750 });
  assert.deepEqual(await store.hit('k'), { allowed: true, remaining: 0, resetMs: 750 });
  assert.deepEqual(await store.hit('k'), { allowed: false, remaining: 0, resetMs: 750 });
  const sliding = memoryStore('r', { limit: 2, windowMs: W, algorithm: 'sliding-window' }, () => now);
  await sliding.hit('k');
  now += 100;
  await sliding.hit('k');
  assert.deepEqual(await sliding.hit('k'), { allowed: false, remaining: 0, resetMs: 900 });
});
