import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { startGateway } from '../../helpers/gateway.js';
import { closedPort } from '../../helpers/upstream.js';
import { grpcFiles, startInventory } from './inventory-server.js';

const GET_ITEM = `  - id: item
    match: { path: /api/shelves/:shelf/items/:sku }
    grpc:
      service: inventory
      proto: ./protos/inventory.proto
      method: shop.v1.Inventory/GetItem
      metadata: { request: [x-tenant], response: [x-stock-region, x-stock-checked] }
`;

async function json(res: Awaited<ReturnType<typeof request>>): Promise<Record<string, unknown>> {
  return (await res.body.json()) as Record<string, unknown>;
}

test('REST -> gRPC unary: path params, dotted query fields, repeated keys, int64, enum and well-known types', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(grpcFiles([server.url], GET_ITEM));
  t.after(() => gw.close());

  const res = await request(`${gw.url}/api/shelves/s1/items/abc?filter.color=red&filter.size.width=3&tags=a&tags=b&min_count=9007199254740993&status=SOLD_OUT&since=2024-01-02T03:04:05Z`);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = await json(res);

  const seen = server.calls.at(-1)!;
  assert.equal(seen.method, 'GetItem');
  assert.deepEqual(seen.request, {
    sku: 'abc',
    shelf: 's1',
    filter: { color: 'red', size: { width: 3 } },
    tags: ['a', 'b'],
    minCount: '9007199254740993',
    status: 'SOLD_OUT',
    since: { seconds: String(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000) },
  });
  assert.equal(body.sku, 'abc');
  assert.equal(body.count, '9007199254740993', 'int64 is a JSON string');
  assert.equal(body.status, 'SOLD_OUT', 'enums are names');
  assert.equal(body.updatedAt, '2024-05-06T07:08:09.500Z', 'Timestamp is RFC 3339');
  assert.equal(body.ttl, '1.500s', 'Duration is seconds with an s');
  assert.deepEqual(body.sizes, ['1', '-2'], 'repeated int64 are strings');
  assert.deepEqual(body.tags, ['a', 'b']);
  assert.deepEqual(body.filter, { color: 'red', size: { width: 3, height: 0 } });
});

test('REST -> gRPC: the JSON body fills the message, path params on top', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(
    grpcFiles([server.url], `  - id: update
    match: { path: /api/items/:sku, methods: [PUT] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/UpdateItem }
`),
  );
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/items/from-path`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'from-body', name: 'Lamp', count: '12', status: 'IN_STOCK', updated_at: '2024-05-06T07:08:09.25+02:00', ttl: '-0.5s', filter: { size: { height: 4 } } }),
  });
  assert.equal(res.statusCode, 200);
  const body = await json(res);
  assert.equal(body.sku, 'from-path');
  assert.equal(body.name, 'Lamp');
  assert.equal(body.count, '12');
  assert.equal(body.updatedAt, '2024-05-06T05:08:09.250Z');
  assert.equal(body.ttl, '-0.500s');
  assert.deepEqual(server.calls.at(-1)!.request.filter, { size: { height: 4 } });
});

test('malformed JSON, unknown fields and unknown query parameters are 400 before any gRPC call', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(
    grpcFiles([server.url], `${GET_ITEM}  - id: update
    match: { path: /api/items/:sku, methods: [PUT] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/UpdateItem }
`),
  );
  t.after(() => gw.close());
  const cases: [string, string, string | undefined, RegExp][] = [
    ['PUT', '/api/items/x', '{"name": ', /not valid JSON/],
    ['PUT', '/api/items/x', '{"colour": "red"}', /no field "colour"/],
    ['PUT', '/api/items/x', '{"count": "twelve"}', /count must be an integer/],
    ['PUT', '/api/items/x', '{"status": "LOST"}', /status must be one of/],
    ['GET', '/api/shelves/s/items/x?nope=1', undefined, /unknown query parameter "nope"/],
    ['GET', '/api/shelves/s/items/x?min_count=abc', undefined, /min_count must be an integer/],
    ['GET', '/api/shelves/s/items/x?filter=red', undefined, /message field "filter"/],
  ];
  for (const [method, path, body, detail] of cases) {
    const res = await request(`${gw.url}${path}`, { method: method as 'GET', body, headers: body ? { 'content-type': 'application/json' } : {} });
    assert.equal(res.statusCode, 400, `${method} ${path} ${body}`);
    const problem = await json(res);
    assert.equal(problem.code, 'BAD_REQUEST');
    assert.match(String(problem.detail), detail);
  }
  assert.equal(server.calls.length, 0, 'nothing reached the gRPC server');
});

test('request headers and trace context become metadata; listed response metadata (headers and trailers) becomes headers', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(grpcFiles([server.url], GET_ITEM));
  t.after(() => gw.close());
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await request(`${gw.url}/api/shelves/s/items/x`, {
    headers: { 'x-request-id': 'rid-42', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-tenant': 'acme', cookie: 'secret=1' },
  });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-stock-region'], 'eu-1');
  assert.equal(res.headers['x-stock-checked'], 'yes', 'from the trailers');
  assert.equal(res.headers['x-request-id'], 'rid-42');
  await res.body.dump();
  const md = server.calls.at(-1)!.metadata;
  assert.deepEqual(md.get('x-request-id'), ['rid-42']);
  assert.deepEqual(md.get('x-tenant'), ['acme']);
  assert.deepEqual(md.get('cookie'), [], 'unlisted headers stay behind');
  const tp = String(md.get('traceparent')[0]);
  assert.match(tp, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  assert.notEqual(tp, `00-${traceId}-00f067aa0ba902b7-01`, 'a new parent span id');
});

const STATUS_ROWS: [string, number][] = [
  ['CANCELLED', 499],
  ['UNKNOWN', 500],
  ['INVALID_ARGUMENT', 400],
  ['DEADLINE_EXCEEDED', 504],
  ['NOT_FOUND', 404],
  ['ALREADY_EXISTS', 409],
  ['PERMISSION_DENIED', 403],
  ['RESOURCE_EXHAUSTED', 429],
  ['FAILED_PRECONDITION', 400],
  ['ABORTED', 409],
  ['OUT_OF_RANGE', 400],
  ['UNIMPLEMENTED', 501],
  ['INTERNAL', 500],
  ['UNAVAILABLE', 503],
  ['DATA_LOSS', 500],
  ['UNAUTHENTICATED', 401],
];

test('every gRPC status maps to its HTTP status and GRPC_<STATUS> problem with the gRPC message as detail', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(
    grpcFiles([server.url], `  - id: fail
    match: { path: /api/fail/:code, methods: [GET] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/Fail }
`),
  );
  t.after(() => gw.close());
  for (const [name, status] of STATUS_ROWS) {
    const res = await request(`${gw.url}/api/fail/${name}?message=${encodeURIComponent(`it went ${name}`)}`);
    assert.equal(res.statusCode, status, name);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const problem = await json(res);
    assert.equal(problem.code, `GRPC_${name}`);
    assert.equal(problem.status, status);
    assert.equal(problem.detail, `it went ${name}`);
    assert.equal(problem.requestId, res.headers['x-request-id']);
  }
});

test('the route timeout is sent as the gRPC deadline; a slow server answers 504 and sees the call cancelled', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(
    grpcFiles([server.url], `  - id: slow
    match: { path: /api/slow/:id, methods: [GET] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/Slow, timeout: 300ms }
`),
  );
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/slow/1`);
  assert.equal(res.statusCode, 504);
  const problem = await json(res);
  assert.equal(problem.code, 'GRPC_DEADLINE_EXCEEDED');
  await server.slowCancelled;
  const deadline = server.calls.at(-1)!.deadline;
  assert.ok(deadline instanceof Date || Number.isFinite(deadline), 'the server got a grpc-timeout');
});

test('the service timeout is the deadline when the route sets none', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(
    grpcFiles(
      [server.url],
      `  - id: slow
    match: { path: /api/slow/:id, methods: [GET] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/Slow }
`,
      '    timeout: 300ms\n',
    ),
  );
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/slow/1`);
  assert.equal(res.statusCode, 504);
  assert.equal((await json(res)).code, 'GRPC_DEADLINE_EXCEEDED');
  await server.slowCancelled;
});

test('a gRPC server that is down answers 503 GRPC_UNAVAILABLE', async (t) => {
  const port = await closedPort();
  const gw = await startGateway(grpcFiles([`grpc://127.0.0.1:${port}`], GET_ITEM));
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/shelves/s/items/x`);
  assert.equal(res.statusCode, 503);
  const problem = await json(res);
  assert.equal(problem.code, 'GRPC_UNAVAILABLE');
});

test('http:// targets of a grpc service are plaintext gRPC', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(grpcFiles([`http://127.0.0.1:${server.port}`], GET_ITEM));
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/shelves/s/items/x`);
  assert.equal(res.statusCode, 200);
  assert.equal((await json(res)).sku, 'x');
});

test('the client leaving cancels the gRPC call', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(
    grpcFiles([server.url], `  - id: slow
    match: { path: /api/slow/:id, methods: [GET] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/Slow, timeout: 1m }
`),
  );
  t.after(() => gw.close());
  const aborter = new AbortController();
  const pending = request(`${gw.url}/api/slow/1`, { signal: aborter.signal }).catch((err: Error) => err);
  while (server.calls.length === 0) await new Promise((r) => setTimeout(r, 10));
  aborter.abort();
  assert.ok((await pending) instanceof Error);
  await server.slowCancelled;
});


test('a target that refuses connections is skipped: the call is tried once more on another target', async (t) => {
  const server = await startInventory();
  t.after(() => server.close());
  const down = await closedPort();
  const gw = await startGateway(grpcFiles([`grpc://127.0.0.1:${down}`, server.url], GET_ITEM));
  t.after(() => gw.close());
  for (let i = 0; i < 4; i++) {
    const res = await request(`${gw.url}/api/shelves/s/items/x${i}`);
    assert.equal(res.statusCode, 200, `request ${i}`);
    await res.body.dump();
  }
  assert.equal(server.calls.length, 4);
});
