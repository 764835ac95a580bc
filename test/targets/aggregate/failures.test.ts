import assert from 'node:assert/strict';
import type http from 'node:http';
import { test } from 'node:test';
import { request } from 'undici';
import { closedPort } from '../../helpers/upstream.js';
import { waitUntil } from '../../helpers/wait-until.js';
import { aggregateSetup, get, json } from './helpers.js';

type Part = { as: string; service: string; outcome: string; status: number | null };

/** A handler that never answers; resolves `closed` when the gateway gives up on the request. */
function hanging(): { handler: (req: http.IncomingMessage, res: http.ServerResponse) => void; closed: Promise<void> } {
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  return {
    closed,
    handler: (_req, res) => {
      res.on('close', () => done());
    },
  };
}

function timing(header: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of String(header).split(/,\s*/)) {
    const [name, ...params] = entry.split(';');
    assert.ok(params.some((p) => /^dur=\d+(\.\d+)?$/.test(p)), `dur in ${entry}`);
    out[name!] = params.find((p) => p.startsWith('desc='))?.slice(6, -1) ?? '';
  }
  return out;
}

test('a failed optional backend: 200, its key null or its fallback, x-gatehouse-completed: false, Server-Timing per backend', async (t) => {
  const port = await closedPort();
  const { gw } = await aggregateSetup(
    t,
    {
      users: (_q, res) => json(res, { name: 'Ann' }),
      orders: (_q, res) => json(res, { error: 'boom' }, 500),
    },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: orders, optional: true }
        - { service: gone, path: /p, as: payments, optional: true, fallback: { items: [] } }
        - { service: users, path: /u, as: ., select: [name] }
`,
    { services: { gone: `http://127.0.0.1:${port}` } },
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-gatehouse-completed'], 'false');
  assert.deepEqual(r.body, { user: { name: 'Ann' }, orders: null, payments: { items: [] }, name: 'Ann' });
  assert.deepEqual(timing(r.headers['server-timing']), { user: '200', orders: '500', payments: '503 unavailable', root: '200' });
});

test('RELIABILITY 36: an optional backend past its own timeout is null; the route still answers with per-part status', async (t) => {
  const slow = hanging();
  const { gw } = await aggregateSetup(
    t,
    { users: (_q, res) => json(res, { name: 'Ann' }), orders: slow.handler },
    `  - id: d
    match: { path: /d }
    aggregate:
      timeout: 30s
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: orders, optional: true, timeout: 150ms }
`,
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { user: { name: 'Ann' }, orders: null });
  assert.equal(r.headers['x-gatehouse-completed'], 'false');
  assert.equal(timing(r.headers['server-timing']).orders, '504 timeout');
  await slow.closed; // the abandoned call was cancelled, not left running
});

test('a failed required backend: 502 problem+json listing each failed part with its status', async (t) => {
  const { gw } = await aggregateSetup(
    t,
    {
      users: (_q, res) => json(res, { name: 'Ann' }),
      orders: (_q, res) => json(res, { error: 'nope' }, 503),
      payments: (_q, res) => json(res, {}, 404),
    },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: payments, path: /p, as: payments, optional: true }
        - { service: orders, path: /o, as: orders }
`,
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 502);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  assert.equal(r.body.code, 'BAD_GATEWAY');
  assert.equal(r.body.requestId, r.headers['x-request-id']);
  assert.match(String(r.body.detail), /required part orders/);
  const parts = (r.body.parts as Part[]).map((p) => [p.as, p.service, p.outcome, p.status]);
  assert.deepEqual(parts, [
    ['payments', 'payments', 'failed', 404],
    ['orders', 'orders', 'failed', 503],
  ]);
  assert.equal(timing(r.headers['server-timing']).orders, '503');
});

test('RELIABILITY 36: a required backend that never answers ends in 504 UPSTREAM_TIMEOUT at the deadline, and outstanding calls are cancelled', async (t) => {
  const slowUsers = hanging();
  const slowOrders = hanging();
  const { gw } = await aggregateSetup(
    t,
    { users: slowUsers.handler, orders: slowOrders.handler },
    `  - id: d
    match: { path: /d }
    aggregate:
      timeout: 200ms
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: orders, optional: true }
`,
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 504);
  assert.equal(r.body.code, 'UPSTREAM_TIMEOUT');
  const parts = (r.body.parts as Part[]).map((p) => [p.as, p.outcome, p.status]);
  assert.deepEqual(parts, [
    ['user', 'timeout', 504],
    ['orders', 'timeout', 504],
  ]);
  await Promise.all([slowUsers.closed, slowOrders.closed]);
});

test('a required failure cancels the calls still in flight', async (t) => {
  const slow = hanging();
  const { gw } = await aggregateSetup(
    t,
    { users: (_q, res) => json(res, {}, 500), orders: slow.handler },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: orders }
`,
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 502);
  const parts = (r.body.parts as Part[]).map((p) => [p.as, p.outcome, p.status]);
  assert.deepEqual(parts, [
    ['user', 'failed', 500],
    ['orders', 'cancelled', null],
  ]);
  await slow.closed;
});

test('a backend depending on a failed one is skipped and reported as such', async (t) => {
  const { gw, origins } = await aggregateSetup(
    t,
    {
      users: (_q, res) => json(res, {}, 500),
      payments: (_q, res) => json(res, { paid: true }),
      orders: (_q, res) => json(res, [{ id: 1 }]),
    },
    `  - id: soft
    match: { path: /soft }
    aggregate:
      backends:
        - { service: users, path: /u, as: user, optional: true }
        - { service: payments, path: "/p/{user.accountId}", as: payments, optional: true, fallback: [] }
        - { service: orders, path: /o, as: orders }
  - id: hard
    match: { path: /hard }
    aggregate:
      backends:
        - { service: users, path: /u, as: user, optional: true }
        - { service: payments, path: "/p/{user.accountId}", as: payments }
`,
  );
  const soft = await get(`${gw.url}/soft`);
  assert.equal(soft.status, 200);
  assert.equal(soft.headers['x-gatehouse-completed'], 'false');
  assert.deepEqual(soft.body, { user: null, payments: [], orders: [{ id: 1 }] });
  assert.equal(timing(soft.headers['server-timing']).payments, 'skipped');

  const hard = await get(`${gw.url}/hard`);
  assert.equal(hard.status, 502);
  const parts = (hard.body.parts as Part[]).map((p) => [p.as, p.outcome, p.status]);
  assert.deepEqual(parts, [
    ['user', 'failed', 500],
    ['payments', 'skipped', null],
  ]);
  assert.equal(origins.payments!.seen.length, 0, 'a skipped backend is never called');
});

test('a referenced value that is missing skips the dependent instead of calling an empty path', async (t) => {
  const { gw, origins } = await aggregateSetup(
    t,
    { users: (_q, res) => json(res, { name: 'no account' }), payments: (_q, res) => json(res, {}) },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: payments, path: "/p/{user.accountId}", as: payments, optional: true }
`,
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { user: { name: 'no account' }, payments: null });
  assert.equal(origins.payments!.seen.length, 0);
});

test('a body that is not JSON, or a non-object merged into the root, fails that part', async (t) => {
  const { gw } = await aggregateSetup(
    t,
    {
      text: (_q, res) => res.end('<html>'),
      list: (_q, res) => json(res, [1, 2]),
    },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: text, path: /, as: page, optional: true }
        - { service: list, path: /, as: ., optional: true }
`,
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { page: null });
  assert.deepEqual(timing(r.headers['server-timing']), { page: '502 invalid', root: '502 invalid' });
});

test('the client leaving cancels the backend calls', async (t) => {
  const slow = hanging();
  let arrived!: () => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const { gw } = await aggregateSetup(
    t,
    {
      orders: (req, res) => {
        arrived();
        slow.handler(req, res);
      },
    },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: orders, path: /o, as: orders }
`,
  );
  const ac = new AbortController();
  const pending = request(`${gw.url}/d`, { signal: ac.signal }).catch((e: Error) => e);
  await reached;
  ac.abort();
  assert.ok((await pending) instanceof Error);
  await slow.closed;
});

test('a part over 16 MiB fails as 502 (its connection cut, not read to the end); a part whose body breaks off fails too', async (t) => {
  let bigCut = false;
  const { gw } = await aggregateSetup(
    t,
    {
      users: (_q, res) => json(res, { name: 'Ann' }),
      orders: (q, res) => {
        if (q.url === '/broken') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          res.write('{"partial":');
          setTimeout(() => res.destroy(), 10);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.on('close', () => (bigCut = !res.writableFinished));
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let left = 40;
        const pump = (): void => {
          while (left > 0) {
            left--;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('{}');
        };
        pump();
      },
    },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /big, as: big, optional: true }
        - { service: orders, path: /broken, as: broken, optional: true }
`,
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-gatehouse-completed'], 'false');
  assert.deepEqual(r.body, { user: { name: 'Ann' }, big: null, broken: null });
  assert.deepEqual(timing(r.headers['server-timing']), { user: '200', big: '502', broken: '502' });
  await waitUntil(() => bigCut, 'the oversized part is cut off');
});
