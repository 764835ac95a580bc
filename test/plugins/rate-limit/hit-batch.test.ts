import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchedHits, MAX_BATCH } from '../../../src/plugins/rate-limit/hit-batch.js';
import type { Verdict } from '../../../src/plugins/rate-limit/store.js';

/** Resolves in the next turn of the event loop, after the batches of this one went out. */
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A counter that records each call it gets and answers remaining = 100 - position. */
function recorder() {
  const calls: [string, number][] = [];
  const counts = new Map<string, number>();
  const count = async (key: string, n: number): Promise<Verdict[]> => {
    calls.push([key, n]);
    const before = counts.get(key) ?? 0;
    counts.set(key, before + n);
    return Array.from({ length: n }, (_, i) => ({ allowed: true, remaining: 100 - (before + i + 1), resetMs: 1 }));
  };
  return { calls, count };
}

test('hits on one key in one turn are one count, each answered with its own place in order', async () => {
  const r = recorder();
  const hit = batchedHits(r.count);
  const verdicts = await Promise.all([hit('a'), hit('a'), hit('b'), hit('a')]);
  assert.deepEqual(r.calls, [['a', 3], ['b', 1]]);
  assert.deepEqual(verdicts.map((v) => v.remaining), [99, 98, 99, 97]);
  // The next turn is a new batch.
  assert.equal((await hit('a')).remaining, 96);
  assert.deepEqual(r.calls.at(-1), ['a', 1]);
});

test('a busy key is counted in batches of at most MAX_BATCH', async () => {
  const r = recorder();
  const hit = batchedHits(r.count);
  const verdicts = await Promise.all(Array.from({ length: MAX_BATCH + 3 }, () => hit('k')));
  assert.deepEqual(r.calls, [['k', MAX_BATCH], ['k', 3]]);
  assert.equal(verdicts.at(-1)!.remaining, 100 - (MAX_BATCH + 3));
});

test('a failed count fails every hit of its batch, and only those', async () => {
  const hit = batchedHits(async (key, n) => {
    if (key === 'down') throw new Error('redis is down');
    return Array.from({ length: n }, () => ({ allowed: true, remaining: 1, resetMs: 1 }));
  });
  const results = await Promise.allSettled([hit('down'), hit('up'), hit('down')]);
  assert.deepEqual(results.map((x) => x.status), ['rejected', 'fulfilled', 'rejected']);
  assert.equal((results[0] as PromiseRejectedResult).reason.message, 'redis is down');
});

test('while a key is being counted, its new hits wait for the answer and go out together as the next batch', async () => {
  const calls: [string, number][] = [];
  const answers: (() => void)[] = [];
  let counted = 0;
  const hit = batchedHits((key, n) => {
    calls.push([key, n]);
    const before = counted;
    counted += n;
    return new Promise((resolve) => answers.push(() => resolve(Array.from({ length: n }, (_, i) => ({ allowed: true, remaining: 100 - (before + i + 1), resetMs: 1 })))));
  });
  const first = hit('k');
  await nextTurn();
  assert.deepEqual(calls, [['k', 1]], 'an idle key is counted in the turn its hit came');
  // Three more turns while the first count is unanswered: nothing else is sent for k, but another key goes out.
  const later: Promise<Verdict>[] = [];
  for (let turn = 0; turn < 3; turn++) {
    later.push(hit('k'));
    await nextTurn();
  }
  const other = hit('other');
  await nextTurn();
  assert.deepEqual(calls, [['k', 1], ['other', 1]]);
  answers[0]!();
  assert.equal((await first).remaining, 99);
  await nextTurn();
  assert.deepEqual(calls, [['k', 1], ['other', 1], ['k', 3]], 'the hits that waited are one batch');
  answers[1]!();
  answers[2]!();
  assert.deepEqual((await Promise.all(later)).map((v) => v.remaining), [97, 96, 95]);
  assert.equal((await other).remaining, 98);
});

test('a failed count does not hold up the hits that waited behind it', async () => {
  let calls = 0;
  let fail: ((err: Error) => void) | undefined;
  const hit = batchedHits((_key, n) => {
    calls++;
    if (calls === 1) return new Promise((_resolve, reject) => (fail = reject));
    return Promise.resolve(Array.from({ length: n }, () => ({ allowed: true, remaining: 5, resetMs: 1 })));
  });
  const first = hit('k');
  await nextTurn();
  const waiting = [hit('k'), hit('k')];
  fail!(new Error('timed out'));
  await assert.rejects(first, /timed out/);
  const verdicts = await Promise.all(waiting);
  assert.deepEqual(verdicts.map((v) => v.remaining), [5, 5]);
  assert.equal(calls, 2);
});
