/**
 * REST -> gRPC calls go through the target's circuit breaker, passive health and the upstream
 * metrics, as proxied HTTP calls do (src/targets/grpc/resilient-call.ts): real grpc-js servers
 * that fail on purpose, counted on the server side.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { request } from 'undici';
import { startGateway } from '../../helpers/gateway.js';
import { loadFixture, startGrpcServer, type GrpcOrigin, type Plain } from '../../helpers/grpc.js';
import { grpcFiles } from './inventory-server.js';
import { GrpcCode } from '../../../src/targets/grpc/status-codes.js';
import { httpStatusOfGrpc } from '../../../src/targets/grpc/resilient-call.js';
import { metricValue } from '../../helpers/metrics.js';

const ROUTE = `  - id: item
    match: { path: /api/items/:sku, methods: [GET] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/GetItem }
`;

const LIST = `  - id: list
    match: { path: /api/shelves/:shelf/items, methods: [GET] }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/ListItems }
`;

/**
 * An Inventory server whose GetItem answers an item, or fails with `failWith`; its ListItems
 * streams `count` items and then ends, or fails with `failWith`. Counts its calls.
 */
async function inventory(failWith?: grpc.status): Promise<GrpcOrigin & { hits: () => number }> {
  const root = await loadFixture('inventory.proto');
  let hits = 0;
  const origin = await startGrpcServer(root, 'shop.v1.Inventory', {
    GetItem(call: grpc.ServerUnaryCall<Plain, Plain>, cb: grpc.sendUnaryData<Plain>) {
      hits++;
      if (failWith !== undefined) cb({ code: failWith, details: `failing with ${failWith}` });
      else cb(null, { sku: call.request.sku, name: 'fine' });
    },
    ListItems(call: grpc.ServerWritableStream<Plain, Plain>) {
      hits++;
      for (let i = 0; i < Number(call.request.count ?? 0); i++) call.write({ sku: `sku-${i}` });
      if (failWith !== undefined) call.emit('error', { code: failWith, details: `failing with ${failWith}` });
      else call.end();
    },
  });
  return { ...origin, hits: () => hits };
}

const get = async (url: string) => {
  const res = await request(url);
  const body = (await res.body.json()) as Record<string, unknown>;
  return { status: res.statusCode, headers: res.headers, body };
};

test('a gRPC status counts as the HTTP status the gateway answers for it', () => {
  assert.equal(httpStatusOfGrpc(GrpcCode.OK), 200);
  assert.equal(httpStatusOfGrpc(GrpcCode.UNAVAILABLE), 503);
  assert.equal(httpStatusOfGrpc(GrpcCode.INTERNAL), 500);
  assert.equal(httpStatusOfGrpc(GrpcCode.DEADLINE_EXCEEDED), 504);
  assert.equal(httpStatusOfGrpc(GrpcCode.NOT_FOUND), 404);
  assert.equal(httpStatusOfGrpc(99), 500, 'an unknown code is UNKNOWN');
});

test('a target whose calls fail is cut out by its breaker while the other target keeps answering', async (t) => {
  const good = await inventory();
  const bad = await inventory(grpc.status.INTERNAL);
  t.after(() => Promise.all([good.close(), bad.close()]));
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { port: 0 }\n',
    ...grpcFiles([good.url, bad.url], ROUTE, '    loadBalancer: round-robin\n    circuitBreaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeout: 1m }\n'),
  });
  t.after(() => gw.close());
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push((await get(`${gw.url}/api/items/s${i}`)).status);
  const badHits = bad.hits();
  assert.ok(badHits >= 3 && badHits <= 4, `the failing target got ${badHits} calls before its circuit opened`);
  assert.equal(statuses.filter((s) => s === 500).length, badHits, 'each call it got is a 500 GRPC_INTERNAL');
  for (let i = 0; i < 10; i++) assert.equal((await get(`${gw.url}/api/items/t${i}`)).status, 200);
  assert.equal(bad.hits(), badHits, 'no call reaches the target while its circuit is open');
  assert.equal(good.hits(), 30 - badHits);

  const admin = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
  const text = await (await request(`${admin}/metrics`)).body.text();
  assert.equal(metricValue(text, `gatehouse_circuit_state{service="inventory",target="${bad.url}"}`), 1, 'open');
  assert.equal(metricValue(text, `gatehouse_circuit_state{service="inventory",target="${good.url}"}`), 0, 'closed');
  assert.equal(metricValue(text, `gatehouse_upstream_requests_total{service="inventory",target="${good.url}",outcome="ok"}`), 30 - badHits);
  assert.equal(metricValue(text, `gatehouse_upstream_requests_total{service="inventory",target="${bad.url}",outcome="http_5xx"}`), badHits);
});

test('when every target has an open circuit: 503 CIRCUIT_OPEN with Retry-After, and no call is made', async (t) => {
  const bad = await inventory(grpc.status.UNAVAILABLE);
  t.after(() => bad.close());
  const gw = await startGateway(grpcFiles([bad.url], ROUTE, '    circuitBreaker: { volumeThreshold: 2, resetTimeout: 30s }\n'));
  t.after(() => gw.close());
  assert.equal((await get(`${gw.url}/api/items/a`)).status, 503);
  assert.equal((await get(`${gw.url}/api/items/b`)).status, 503);
  const open = await get(`${gw.url}/api/items/c`);
  assert.equal(open.status, 503);
  assert.equal(open.body.code, 'CIRCUIT_OPEN');
  assert.ok(Number(open.headers['retry-after']) >= 1 && Number(open.headers['retry-after']) <= 30, `Retry-After ${String(open.headers['retry-after'])}`);
  assert.equal(bad.hits(), 2);
});

test('client errors (NOT_FOUND, INVALID_ARGUMENT) never open a circuit', async (t) => {
  const missing = await inventory(grpc.status.NOT_FOUND);
  t.after(() => missing.close());
  const gw = await startGateway(grpcFiles([missing.url], ROUTE, '    circuitBreaker: { volumeThreshold: 2, resetTimeout: 1m }\n'));
  t.after(() => gw.close());
  for (let i = 0; i < 8; i++) {
    const res = await get(`${gw.url}/api/items/${i}`);
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'GRPC_NOT_FOUND');
  }
  assert.equal(missing.hits(), 8);
});

test('passive health ejects a gRPC target after consecutive failures; its sibling takes the calls', async (t) => {
  const good = await inventory();
  const bad = await inventory(grpc.status.UNAVAILABLE);
  t.after(() => Promise.all([good.close(), bad.close()]));
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { port: 0 }\n',
    ...grpcFiles([good.url, bad.url], ROUTE, '    loadBalancer: round-robin\n    healthCheck: { passive: { failures: 2, ejectFor: 1m } }\n'),
  });
  t.after(() => gw.close());
  for (let i = 0; i < 10; i++) await get(`${gw.url}/api/items/${i}`);
  assert.equal(bad.hits(), 2, 'ejected after its second failure in a row');
  const admin = `http://127.0.0.1:${gw.gateway.adminAddress()!.port}`;
  const text = await (await request(`${admin}/metrics`)).body.text();
  assert.equal(metricValue(text, `gatehouse_target_healthy{service="inventory",target="${bad.url}"}`), 0);
  assert.equal(metricValue(text, `gatehouse_target_healthy{service="inventory",target="${good.url}"}`), 1);
});

test('a stream that fails before its first message counts against its target; the breaker cuts it out', async (t) => {
  const good = await inventory();
  const bad = await inventory(grpc.status.UNAVAILABLE);
  t.after(() => Promise.all([good.close(), bad.close()]));
  const gw = await startGateway(
    grpcFiles([good.url, bad.url], LIST, '    loadBalancer: round-robin\n    circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeout: 1m }\n'),
  );
  t.after(() => gw.close());
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await request(`${gw.url}/api/shelves/s/items?count=0`);
    statuses.push(res.statusCode);
    await res.body.dump();
  }
  assert.ok(bad.hits() >= 2 && bad.hits() <= 3, `the failing target got ${bad.hits()} streams before its circuit opened`);
  assert.equal(statuses.filter((s) => s === 503).length, bad.hits(), 'each of them a plain 503 GRPC_UNAVAILABLE');
  assert.deepEqual(statuses.slice(-6), [200, 200, 200, 200, 200, 200]);
  const res = await request(`${gw.url}/api/shelves/s/items?count=2`);
  assert.deepEqual((await res.body.text()).trimEnd().split('\n').map((l) => (JSON.parse(l) as Plain).sku), ['sku-0', 'sku-1']);
});

test('a stream that fails after its first message does not count: the answer had started', async (t) => {
  const flaky = await inventory(grpc.status.DATA_LOSS);
  t.after(() => flaky.close());
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { port: 0 }\n',
    ...grpcFiles([flaky.url], LIST, '    circuitBreaker: { volumeThreshold: 2, resetTimeout: 1m }\n'),
  });
  t.after(() => gw.close());
  for (let i = 0; i < 6; i++) {
    const res = await request(`${gw.url}/api/shelves/s/items?count=1`);
    assert.equal(res.statusCode, 200);
    const lines = (await res.body.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as Plain);
    assert.equal((lines.at(-1)!.error as Plain).code, 'GRPC_DATA_LOSS', 'the error is the last line');
  }
  assert.equal(flaky.hits(), 6);
  const text = await (await request(`http://127.0.0.1:${gw.gateway.adminAddress()!.port}/metrics`)).body.text();
  assert.equal(metricValue(text, `gatehouse_circuit_state{service="inventory",target="${flaky.url}"}`), 0, 'closed');
  assert.equal(metricValue(text, `gatehouse_upstream_requests_total{service="inventory",target="${flaky.url}",outcome="ok"}`), 6);
});
