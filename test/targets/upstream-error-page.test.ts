import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { configErrors, routeFile, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startOrigin, type Origin } from '../helpers/upstream.js';

type T = { after: (fn: () => Promise<void>) => void };

/** An origin whose path is the status it answers, with an HTML error page and backend headers. */
async function setup(t: T, upstreamExtra: string): Promise<{ gw: RunningGateway; origin: Origin; ports: number[] }> {
  const ports: number[] = [];
  const origin = await startOrigin((req, res) => {
    ports.push(req.socket.remotePort!);
    const status = Number(req.url!.slice(1)) || 200;
    res.statusCode = status;
    res.setHeader('content-type', 'text/html');
    res.setHeader('x-runtime', '12ms');
    res.setHeader('x-backend', 'orders-7f9c');
    res.setHeader('x-kept', 'yes');
    if (status === 503) res.setHeader('retry-after', '7');
    res.end(`<html><body><pre>Traceback at OrdersController line 42 (status ${status})</pre></body></html>`);
  });
  t.after(() => origin.close());
  const routes = `  - id: all\n    match: { path: /* }\n    upstream: { service: svc${upstreamExtra} }\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], routes) });
  t.after(() => gw.close());
  return { gw, origin, ports };
}

test('replaceUpstreamErrors: true turns upstream 4xx/5xx pages into problem+json with the same status', async (t) => {
  const { gw } = await setup(t, ', replaceUpstreamErrors: true');
  for (const status of [404, 500, 503]) {
    const res = await request(`${gw.url}/${status}`, { headers: { 'x-request-id': `r-${status}` } });
    assert.equal(res.statusCode, status);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const text = await res.body.text();
    assert.doesNotMatch(text, /Traceback|<html>/);
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.equal(body.status, status);
    assert.equal(body.code, 'UPSTREAM_ERROR');
    assert.equal(body.requestId, `r-${status}`);
    for (const k of ['type', 'title', 'detail']) assert.equal(typeof body[k], 'string', k);
    assert.equal(res.headers['x-request-id'], `r-${status}`);
    assert.equal(res.headers['x-kept'], 'yes');
    if (status === 503) assert.equal(res.headers['retry-after'], '7');
  }
  const ok = await request(`${gw.url}/200`);
  assert.equal(ok.statusCode, 200);
  assert.match(await ok.body.text(), /Traceback/); // successes pass through untouched
});

test('replaceUpstreamErrors with a list replaces only the statuses and classes it names', async (t) => {
  const { gw } = await setup(t, ', replaceUpstreamErrors: ["5xx", 404]');
  const cases: Array<[number, boolean]> = [[404, true], [409, false], [500, true], [502, true]];
  for (const [status, replaced] of cases) {
    const res = await request(`${gw.url}/${status}`);
    assert.equal(res.statusCode, status);
    const text = await res.body.text();
    assert.equal(/problem\+json/.test(String(res.headers['content-type'])), replaced, `${status}`);
    assert.equal(text.includes('Traceback'), !replaced, `${status}`);
  }
});

test('the pooled upstream connection is reused after a replaced error page', async (t) => {
  const { gw, ports } = await setup(t, ', replaceUpstreamErrors: true');
  for (let i = 0; i < 5; i++) {
    const res = await request(`${gw.url}/500`);
    await res.body.dump();
    assert.equal(res.statusCode, 500);
  }
  assert.equal(ports.length, 5);
  assert.equal(new Set(ports).size, 1);
});

test('hideHeaders removes the listed upstream headers, Server and X-Powered-By stay hidden', async (t) => {
  const { gw } = await setup(t, ', hideHeaders: [X-Runtime, x-backend]');
  const res = await request(`${gw.url}/200`);
  await res.body.dump();
  assert.equal(res.headers['x-runtime'], undefined);
  assert.equal(res.headers['x-backend'], undefined);
  assert.equal(res.headers['x-kept'], 'yes');
});

test('without the options, upstream error pages and headers pass through', async (t) => {
  const { gw } = await setup(t, '');
  const res = await request(`${gw.url}/500`);
  assert.equal(res.statusCode, 500);
  assert.match(await res.body.text(), /Traceback/);
  assert.equal(res.headers['x-runtime'], '12ms');
});

test('bad replaceUpstreamErrors and hideHeaders values are config errors at their key', async () => {
  const errors = await configErrors({
    'routes.d/a.yaml': routeFile(['http://127.0.0.1:1'], `  - id: all\n    match: { path: /* }\n    upstream:\n      service: svc\n      replaceUpstreamErrors: [302]\n      hideHeaders: ["bad header"]\n`),
  });
  assert.ok(errors.some((e) => /a\.yaml:\d+:\d+ routes\[0\]\.upstream\.replaceUpstreamErrors/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /a\.yaml:\d+:\d+ routes\[0\]\.upstream\.hideHeaders/.test(e)), errors.join('\n'));
});
