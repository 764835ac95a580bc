import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { TallyCounter, TallyHistogram } from '../../src/observability/tally.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

test('tallies read exactly like prom-client metrics fed the same values: text and JSON (cluster aggregation)', async () => {
  const theirs = new client.Registry();
  const ours = new client.Registry();
  const pc = new client.Counter({ name: 'c_total', help: 'a counter', labelNames: ['route', 'status'], registers: [theirs] });
  const ph = new client.Histogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['route'], buckets: BOUNDS, registers: [theirs] });
  const tc = new TallyCounter('c_total', 'a counter', ['route', 'status']).register(ours);
  const th = new TallyHistogram('h_seconds', 'a histogram', ['route'], BOUNDS).register(ours);
  const seen: [string, number, number][] = [
    ['a', 200, 0.0005],
    ['a', 200, 0.001],
    ['a', 503, 0.05],
    ['b', 200, 3],
    ['b', 200, 0.2],
  ];
  for (const [route, status, s] of seen) {
    pc.inc({ route, status });
    ph.observe({ route }, s);
  }
  for (const [route, status, s] of seen.slice(0, 3)) {
    tc.series(route, status).inc();
    th.series(route).observe(s);
  }
  for (const [route, status, s] of seen.slice(3)) {
    tc.inc({ route, status });
    th.observe({ route }, s);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  const strip = (json: unknown) => JSON.parse(JSON.stringify(json, (k, v) => (k === 'exemplar' ? undefined : v)));
  assert.deepEqual(strip(await ours.getMetricsAsJSON()), strip(await theirs.getMetricsAsJSON()));
});

test('a series is found once and kept: counting on it needs no lookup; reset zeroes it and it keeps counting', async () => {
  const registry = new client.Registry();
  const c = new TallyCounter('kept_total', 'kept', ['route']).register(registry);
  const s = c.series('r1');
  assert.equal(c.series('r1'), s);
  s.inc();
  s.inc(2);
  assert.match(await registry.metrics(), /kept_total\{route="r1"\} 3/);
  registry.resetMetrics();
  assert.match(await registry.metrics(), /kept_total\{route="r1"\} 0/);
  s.inc();
  assert.match(await registry.metrics(), /kept_total\{route="r1"\} 1/);
  const h = new TallyHistogram('nan_seconds', 'nan', ['route'], BOUNDS).register(registry);
  h.series('x').observe(Number.NaN);
  assert.match(await registry.metrics(), /nan_seconds_count\{route="x"\} 0/);
});
