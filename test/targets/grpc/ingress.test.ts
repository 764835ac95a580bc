import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { startGateway } from '../../helpers/gateway.js';
import { loadFixture, type Plain } from '../../helpers/grpc.js';
import { startOrigin, type Origin } from '../../helpers/upstream.js';
import { INVENTORY_PROTO } from './inventory-server.js';

/** A custom plugin that wants `authorization: Bearer let-me-in` (from gRPC metadata on ingress). */
const BEARER_PLUGIN = `import { definePlugin, GatewayError, Type } from 'gatehouse';
export default definePlugin({
  name: 'bearer',
  config: Type.Object({ token: Type.String() }),
  create(config) {
    return {
      onRequest: async (request) => {
        if (request.headers.authorization !== 'Bearer ' + config.token) throw new GatewayError('UNAUTHENTICATED', 'bad or missing bearer token');
      },
    };
  },
});
`;

function restOrigin(): Promise<Origin> {
  return startOrigin((req, res, body) => {
    res.setHeader('content-type', 'application/json');
    const url = new URL(req.url!, 'http://x');
    if (url.pathname.startsWith('/v1/shelves/missing/')) {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/problem+json');
      return res.end(JSON.stringify({ status: 404, detail: 'no such shelf' }));
    }
    if (req.method === 'POST') {
      const item = JSON.parse(body.toString()) as Plain;
      return res.end(JSON.stringify({ ...item, shelf: url.pathname.split('/')[3], updatedAt: '2024-05-06T07:08:09.500Z', extra: 'ignored' }));
    }
    const [, , , shelf, , sku] = url.pathname.split('/');
    res.end(JSON.stringify({ sku, shelf, name: `REST ${sku}`, count: '9007199254740993', status: 'SOLD_OUT', tags: url.searchParams.getAll('tags'), ttl: '2.5s' }));
  });
}

async function start(t: { after(fn: () => Promise<void>): void }) {
  const origin = await restOrigin();
  t.after(() => origin.close());
  const gw = await startGateway(
    {
      'gatehouse.yaml': 'admin: { enabled: false }\ngrpcServer: { host: 127.0.0.1, port: 0, protos: [./protos/inventory.proto] }\n',
      'protos/inventory.proto': INVENTORY_PROTO,
      'plugins/bearer.js': BEARER_PLUGIN,
      'routes.d/rest.yaml': `services:
  items:
    discovery: { static: ["${origin.url}"] }
routes:
  - id: get-item-grpc
    match: { grpc: shop.v1.Inventory/GetItem }
    upstream: { service: items }
    plugins:
      - bearer: { token: let-me-in }
      - headers: { request: { set: { x-via: grpc-ingress } } }
  - id: create-item-grpc
    match: { grpc: shop.v1.Inventory/CreateItem }
    upstream: { service: items }
`,
    },
    { inProject: true },
  );
  t.after(() => gw.close());
  const root = await loadFixture('inventory.proto');
  const client = new grpc.Client(`127.0.0.1:${gw.gateway.grpcAddress()}`, grpc.credentials.createInsecure());
  t.after(async () => client.close());
  return { origin, gw, root, client };
}

function unary(client: grpc.Client, root: protobuf.Root, method: string, request: Plain, metadata = new grpc.Metadata()): Promise<Plain> {
  const m = root.lookupService('shop.v1.Inventory').methods[method]!;
  const req = m.resolvedRequestType!;
  const res = m.resolvedResponseType!;
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      `/shop.v1.Inventory/${method}`,
      (v: Plain) => Buffer.from(req.encode(req.fromObject(v)).finish()),
      (b: Buffer) => res.toObject(res.decode(b), { longs: String, enums: String }) as Plain,
      request,
      metadata,
      { deadline: Date.now() + 10_000 },
      (err, value) => (err ? reject(err) : resolve(value!)),
    ),
  );
}

function bearer(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', 'Bearer let-me-in');
  return md;
}

test('a gRPC client reaches a REST service: the call becomes the rule\'s GET, the JSON answer the message', async (t) => {
  const { origin, root, client } = await start(t);
  const item = await unary(client, root, 'GetItem', { shelf: 's1', sku: 'a/b', tags: ['x', 'y'], minCount: '5' }, bearer());
  assert.equal(origin.seen.length, 1);
  const seen = origin.seen[0]!;
  assert.equal(seen.method, 'GET');
  assert.equal(seen.url, '/v1/shelves/s1/items/a%2Fb?tags=x&tags=y&minCount=5');
  assert.equal(seen.headers.authorization, 'Bearer let-me-in', 'metadata becomes headers');
  assert.equal(seen.headers['x-via'], 'grpc-ingress', "the route's plugins ran");
  assert.equal(seen.headers['x-gatehouse-grpc-ingress'], undefined, 'the internal header never leaves');
  assert.deepEqual(item, { sku: 'a%2Fb', shelf: 's1', name: 'REST a%2Fb', count: '9007199254740993', status: 'SOLD_OUT', tags: ['x', 'y'], ttl: { seconds: '2', nanos: 500_000_000 } });
});

test('ingress: auth plugins see the authorization metadata; without it the call is UNAUTHENTICATED', async (t) => {
  const { origin, root, client } = await start(t);
  await assert.rejects(unary(client, root, 'GetItem', { shelf: 's1', sku: 'x' }), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.UNAUTHENTICATED);
    assert.equal(err.details, 'bad or missing bearer token');
    return true;
  });
  assert.equal(origin.seen.length, 0);
});

test('ingress: body "field" becomes the JSON body of the POST; unknown answer fields are ignored', async (t) => {
  const { origin, root, client } = await start(t);
  const item = await unary(client, root, 'CreateItem', { shelf: 'top', item: { sku: 'n1', name: 'Lamp', count: '2' } });
  const seen = origin.seen[0]!;
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/v1/shelves/top/items');
  assert.deepEqual(JSON.parse(seen.body.toString()), { sku: 'n1', name: 'Lamp', count: '2' });
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(item.shelf, 'top');
  assert.deepEqual(item.updatedAt, { seconds: String(Date.UTC(2024, 4, 6, 7, 8, 9) / 1000), nanos: 500_000_000 });
});

test('ingress: an HTTP error from the REST service becomes the matching gRPC status', async (t) => {
  const { root, client } = await start(t);
  await assert.rejects(unary(client, root, 'GetItem', { shelf: 'missing', sku: 'x' }, bearer()), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'no such shelf');
    return true;
  });
});

test('ingress: a method with no route is UNIMPLEMENTED, a missing path field INVALID_ARGUMENT', async (t) => {
  const { root, client, origin } = await start(t);
  await assert.rejects(unary(client, root, 'UpdateItem', { sku: 'x' }), (err: grpc.ServiceError) => err.code === grpc.status.UNIMPLEMENTED);
  await assert.rejects(unary(client, root, 'CreateItem', { item: { sku: 'x' } }), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /shelf is needed/);
    return true;
  });
  assert.equal(origin.seen.length, 0);
});
