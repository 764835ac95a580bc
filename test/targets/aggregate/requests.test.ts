import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { aggregateSetup, json } from './helpers.js';

const echo = (_q: unknown, res: import('node:http').ServerResponse) => json(res, { ok: true });

test('x-request-id and the trace id reach every backend; the parent span id is new per call', async (t) => {
  const { gw, origins } = await aggregateSetup(
    t,
    { users: echo, orders: echo },
    `  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: users, path: /u, as: user }
        - { service: orders, path: /o, as: orders }
`,
  );
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await request(`${gw.url}/d`, { headers: { 'x-request-id': 'req-42', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: 'k=v' } });
  await res.body.dump();
  assert.equal(res.headers['x-request-id'], 'req-42');
  const spans = new Set<string>();
  for (const o of [origins.users!, origins.orders!]) {
    const h = o.seen[0]!.headers;
    assert.equal(h['x-request-id'], 'req-42');
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(h.traceparent));
    assert.ok(m, String(h.traceparent));
    assert.equal(m[1], traceId);
    assert.notEqual(m[2], '00f067aa0ba902b7');
    spans.add(m[2]!);
    assert.equal(h.tracestate, 'k=v');
  }
  assert.equal(spans.size, 2);
});

test('client headers reach a backend only when it lists them in forwardHeaders; headers templates are set', async (t) => {
  const { gw, origins } = await aggregateSetup(
    t,
    { users: echo, orders: echo },
    `  - id: d
    match: { path: /d/:id }
    aggregate:
      backends:
        - { service: users, path: /u, as: user, forwardHeaders: [authorization, X-Tenant] }
        - { service: orders, path: /o, as: orders, headers: { x-user: "user-{params.id}", x-tenant: "{header.x-tenant}" } }
`,
  );
  const res = await request(`${gw.url}/d/5`, { headers: { authorization: 'Bearer t', 'x-tenant': 'acme', cookie: 'sid=1' } });
  await res.body.dump();
  const u = origins.users!.seen[0]!.headers;
  assert.equal(u.authorization, 'Bearer t');
  assert.equal(u['x-tenant'], 'acme');
  assert.equal(u.cookie, undefined);
  const o = origins.orders!.seen[0]!.headers;
  assert.equal(o.authorization, undefined);
  assert.equal(o.cookie, undefined);
  assert.equal(o['x-user'], 'user-5');
  assert.equal(o['x-tenant'], 'acme');
});

test('POST fan-out: forwardBody sends the client body as is, body templates build JSON, other backends get none', async (t) => {
  const { gw, origins } = await aggregateSetup(
    t,
    {
      orders: (_q, res) => json(res, { created: 9 }),
      audit: echo,
      users: echo,
    },
    `  - id: checkout
    match: { path: /checkout, methods: [POST] }
    aggregate:
      backends:
        - { service: orders, method: POST, path: /orders, as: order, forwardBody: true }
        - { service: audit, method: PUT, path: /audit, as: audit, body: { order: "{order.created}", sku: "{body.sku}", note: "sku {body.sku}" } }
        - { service: users, path: /me, as: user }
`,
  );
  const sent = JSON.stringify({ sku: 'A-1', qty: 2 });
  const res = await request(`${gw.url}/checkout`, { method: 'POST', body: sent, headers: { 'content-type': 'application/json' } });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(await res.body.json(), { order: { created: 9 }, audit: { ok: true }, user: { ok: true } });
  const o = origins.orders!.seen[0]!;
  assert.equal(o.method, 'POST');
  assert.equal(o.body.toString(), sent);
  assert.equal(o.headers['content-type'], 'application/json');
  const a = origins.audit!.seen[0]!;
  assert.equal(a.method, 'PUT');
  assert.deepEqual(JSON.parse(a.body.toString()), { order: 9, sku: 'A-1', note: 'sku A-1' });
  const u = origins.users!.seen[0]!;
  assert.equal(u.method, 'GET');
  assert.equal(u.body.length, 0);
});
