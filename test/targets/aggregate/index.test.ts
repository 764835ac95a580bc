import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { aggregateSetup, barrier, get, json } from './helpers.js';

test('independent backends run in parallel: both origins hold a request at the same moment', async (t) => {
  const meet = barrier(2);
  const { gw } = await aggregateSetup(
    t,
    {
      users: async (_q, res) => json(res, { overlapped: await meet() }),
      orders: async (_q, res) => json(res, { overlapped: await meet() }),
    },
    `  - id: dash
    match: { path: /dash }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: orders }
`,
  );
  const r = await get(`${gw.url}/dash`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { user: { overlapped: true }, orders: { overlapped: true } });
  assert.equal(r.headers['x-gatehouse-completed'], 'true');
});

test('a backend reading another result waits for it and gets the value URL-encoded in its path', async (t) => {
  let usersAnswered = false;
  const { gw, origins } = await aggregateSetup(
    t,
    {
      users: (_q, res) => {
        json(res, { id: 7, accountId: 'acc/1 x' });
        usersAnswered = true;
      },
      payments: (_q, res) => json(res, { usersAnsweredFirst: usersAnswered, amount: 3 }),
    },
    `  - id: dash
    match: { path: /dash/:userId }
    aggregate:
      backends:
        - { service: payments, path: "/payments/{user.accountId}", as: payments, query: { for: "{params.userId}" } }
        - { service: users, path: "/users/{params.userId}", as: user }
`,
  );
  const r = await get(`${gw.url}/dash/u%2F9`);
  assert.equal(r.status, 200);
  assert.equal(origins.users!.seen[0]!.url, '/users/u%2F9');
  assert.equal(origins.payments!.seen[0]!.url, '/payments/acc%2F1%20x?for=u%2F9');
  assert.deepEqual(r.body, { payments: { usersAnsweredFirst: true, amount: 3 }, user: { id: 7, accountId: 'acc/1 x' } });
  assert.deepEqual(Object.keys(r.body), ['payments', 'user'], 'config order, not arrival order');
});

test('composition follows config order whatever the arrival order', async (t) => {
  // `slow` is first in config but answers only after `fast` has answered.
  let fastDone!: () => void;
  const fastAnswered = new Promise<void>((r) => (fastDone = r));
  const { gw } = await aggregateSetup(
    t,
    {
      slow: async (_q, res) => {
        await fastAnswered;
        json(res, { shared: 'slow', a: 1 });
      },
      fast: (_q, res) => {
        res.on('finish', fastDone);
        json(res, { shared: 'fast', b: 2 });
      },
    },
    `  - id: first
    match: { path: /first }
    aggregate:
      conflict: first
      backends:
        - { service: slow, path: /, as: . }
        - { service: fast, path: /, as: . }
        - { service: fast, path: /, as: named }
`,
  );
  const r = await get(`${gw.url}/first`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { shared: 'slow', a: 1, b: 2, named: { shared: 'fast', b: 2 } });
  assert.deepEqual(Object.keys(r.body), ['shared', 'a', 'b', 'named']);
});

const MERGE_ORIGINS = {
  a: (_q: unknown, res: import('node:http').ServerResponse) => json(res, { k: 'a', deep: { x: 1, list: [1] }, onlyA: true }),
  b: (_q: unknown, res: import('node:http').ServerResponse) => json(res, { k: 'b', deep: { y: 2, list: [2] } }),
};

function mergeRoute(policy: string): string {
  return `  - id: m
    match: { path: /m }
    aggregate:
      conflict: ${policy}
      backends:
        - { service: a, path: /, as: . }
        - { service: b, path: /, as: . }
`;
}

test('conflict: last takes the later backend in config order', async (t) => {
  const { gw } = await aggregateSetup(t, MERGE_ORIGINS, mergeRoute('last'));
  const r = await get(`${gw.url}/m`);
  assert.deepEqual(r.body, { k: 'b', deep: { y: 2, list: [2] }, onlyA: true });
});

test('conflict: deep-merge merges objects key by key; later leaves and arrays win', async (t) => {
  const { gw } = await aggregateSetup(t, MERGE_ORIGINS, mergeRoute('deep-merge'));
  const r = await get(`${gw.url}/m`);
  assert.deepEqual(r.body, { k: 'b', deep: { x: 1, list: [2], y: 2 }, onlyA: true });
});

test('conflict: error (the default) answers 502 problem+json naming the key and both parts', async (t) => {
  const { gw } = await aggregateSetup(t, MERGE_ORIGINS, mergeRoute('error').replace('      conflict: error\n', ''));
  const r = await get(`${gw.url}/m`);
  assert.equal(r.status, 502);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
  assert.equal(r.body.code, 'BAD_GATEWAY');
  assert.equal(r.body.requestId, r.headers['x-request-id']);
  assert.deepEqual(r.body.conflict, { key: 'k', between: ['backends[0]', 'backends[1]'] });
  assert.equal(r.headers['x-gatehouse-completed'], 'false');
});

test('select keeps nesting and applies per array element; omit, rename and target shape parts', async (t) => {
  const { gw } = await aggregateSetup(
    t,
    {
      orders: (_q, res) => json(res, [
        { id: 1, total: 5, status: 'new', secret: 'x', customer: { name: 'Ann', email: 'a@x' } },
        { id: 2, total: 9, status: 'paid', secret: 'y', customer: { name: 'Bob', email: 'b@x' } },
      ]),
      users: (_q, res) => json(res, { data: { profile: { name: 'Ann', password: 'p', address: { city: 'Oslo', zip: '1' } } } }),
    },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: orders, path: /orders, as: orders, select: [id, customer.name] }
        - { service: users, path: /u, as: user, target: data.profile, omit: [password, address.zip], rename: { address.city: city } }
`,
  );
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, {
    orders: [
      { id: 1, customer: { name: 'Ann' } },
      { id: 2, customer: { name: 'Bob' } },
    ],
    user: { name: 'Ann', address: {}, city: 'Oslo' },
  });
});

test('template builds the final body from shaped parts, fallbacks and request values', async (t) => {
  const { gw } = await aggregateSetup(
    t,
    {
      users: (_q, res) => json(res, { name: 'Ann', id: 7 }),
      orders: (_q, res) => json(res, [{ id: 1 }, { id: 2 }]),
      payments: (_q, res) => json(res, {}, 500),
    },
    `  - id: d
    match: { path: /d/:userId }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: orders, select: [id] }
        - { service: payments, path: /p, as: payments, optional: true, fallback: { balance: 0 } }
      template:
        balance: "{payments.balance}"
        who: "{user.name}"
        greeting: "hello {user.name} ({params.userId})"
        orders: "{orders}"
        ids: "{orders.id}"
`,
  );
  const r = await get(`${gw.url}/d/7`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { balance: 0, who: 'Ann', greeting: 'hello Ann (7)', orders: [{ id: 1 }, { id: 2 }], ids: [1, 2] });
  assert.equal(r.headers['x-gatehouse-completed'], 'false');
});

test('HEAD on an aggregate route answers the GET headers without a body', async (t) => {
  const { gw, origins } = await aggregateSetup(
    t,
    { users: (_q, res) => json(res, { name: 'Ann' }) },
    `  - id: d
    match: { path: /d, methods: [GET] }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
`,
  );
  const res = await request(`${gw.url}/d`, { method: 'HEAD' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-gatehouse-completed'], 'true');
  assert.equal(await res.body.text(), '');
  assert.equal(origins.users!.seen[0]!.method, 'GET');
});
