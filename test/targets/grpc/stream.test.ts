import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { startGateway } from '../../helpers/gateway.js';
import { grpcFiles, startInventory } from './inventory-server.js';

const LIST = `  - id: list
    match: { path: /api/shelves/:shelf/items, methods: [GET] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/ListItems }
`;

async function start(t: { after(fn: () => Promise<void>): void }) {
  const server = await startInventory();
  t.after(() => server.close());
  const gw = await startGateway(grpcFiles([server.url], LIST));
  t.after(() => gw.close());
  return { server, gw };
}

test('a server-streaming method answers NDJSON, one message per line', async (t) => {
  const { gw } = await start(t);
  const res = await request(`${gw.url}/api/shelves/s1/items?count=3`);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
  const lines = (await res.body.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => [l.sku, l.shelf, l.count]), [
    ['sku-0', 's1', '0'],
    ['sku-1', 's1', '1'],
    ['sku-2', 's1', '2'],
  ]);
});

test('an error mid-stream is the last NDJSON line, not a silent end', async (t) => {
  const { gw } = await start(t);
  const res = await request(`${gw.url}/api/shelves/s1/items?count=2&fail_with=DATA_LOSS`);
  assert.equal(res.statusCode, 200);
  const lines = (await res.body.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 3);
  assert.equal(lines[1]!.sku, 'sku-1');
  const error = lines[2]!.error as Record<string, unknown>;
  assert.equal(error.code, 'GRPC_DATA_LOSS');
  assert.equal(error.status, 500);
  assert.equal(error.detail, 'stream failed after 2');
  assert.equal(error.requestId, res.headers['x-request-id']);
});

test('Accept: text/event-stream answers SSE, each message one data: event, a mid-stream error an error event', async (t) => {
  const { gw } = await start(t);
  const res = await request(`${gw.url}/api/shelves/s2/items?count=2&fail_with=UNAVAILABLE`, { headers: { accept: 'text/event-stream' } });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/event-stream/);
  const events = (await res.body.text()).trimEnd().split('\n\n');
  assert.equal(events.length, 3);
  assert.equal(events[0], `data: ${JSON.stringify({ sku: 'sku-0', name: '', count: '0', status: 'STATUS_UNSPECIFIED', updatedAt: null, ttl: null, tags: [], filter: null, shelf: 's2', sizes: [] })}`);
  assert.match(events[1]!, /^data: \{"sku":"sku-1"/);
  const [head, data] = events[2]!.split('\n');
  assert.equal(head, 'event: error');
  const problem = JSON.parse(data!.slice('data: '.length)) as { error: Record<string, unknown> };
  assert.equal(problem.error.code, 'GRPC_UNAVAILABLE');
});

test('a stream that fails before its first message answers a plain problem response', async (t) => {
  const { gw } = await start(t);
  const res = await request(`${gw.url}/api/shelves/s1/items?count=0&fail_with=NOT_FOUND`);
  assert.equal(res.statusCode, 404);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(((await res.body.json()) as Record<string, unknown>).code, 'GRPC_NOT_FOUND');
});

test('an empty stream is an empty 200', async (t) => {
  const { gw } = await start(t);
  const res = await request(`${gw.url}/api/shelves/s1/items?count=0`);
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), '');
});
