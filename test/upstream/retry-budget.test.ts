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

// ---- against a real, fully failing upstream ----

import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

const ROUTE = `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc, stripPrefix: /api }\n`;

async function drive(url: string, total: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const res = await request(url);
        await res.body.dump();
        statuses.push(res.statusCode);
      }
    }),
  );
  return statuses;
}

test('the retry budget caps extra upstream calls under a fully failing service', async (t) => {
  const origin = await startOrigin((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [origin.url],
      ROUTE,
      '    retry: { attempts: 3, backoff: 0, budget: { percent: 20, minPerSecond: 0, window: 1m } }\n',
    ),
  });
  t.after(() => gw.close());
  const statuses = await drive(`${gw.url}/api/x`, 200, 10);
  assert.equal(statuses.length, 200);
  assert.ok(statuses.every((s) => s === 503));
  const hits = origin.seen.length;
  // Without a budget: 200 x (1 + 3) = 800 calls. With it: 200 + 20% of 200.
  assert.ok(hits > 200, `some retries were allowed (${hits} calls)`);
  assert.ok(hits <= 240, `retries stayed within 20% of the traffic (${hits} calls)`);
});

test('the budget floor lets a quiet service retry', async (t) => {
  const origin = await startOrigin((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], ROUTE, '    retry: { attempts: 2, backoff: 0, budget: { percent: 0, minPerSecond: 1, window: 1m } }\n'),
  });
  t.after(() => gw.close());
  await drive(`${gw.url}/api/x`, 20, 1);
  // 0% of the traffic, but 1/s over a 60s window = 60 retries: each of the 20 requests gets both of its retries.
  assert.equal(origin.seen.length, 20 + 40);
  await drive(`${gw.url}/api/x`, 20, 1);
  assert.equal(origin.seen.length, 60 + 20 + 20, 'the 20 retries left in the floor, then none');
});
