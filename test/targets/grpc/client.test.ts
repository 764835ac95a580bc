import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { request } from 'undici';
import { startGateway } from '../../helpers/gateway.js';
import { selfSignedCert } from '../../helpers/tls.js';
import { grpcFiles, startInventory } from './inventory-server.js';

const ROUTE = `  - id: item
    match: { path: /api/items/:sku }
    grpc: { service: inventory, proto: ./protos/inventory.proto, method: shop.v1.Inventory/GetItem }
`;

async function tlsInventory(t: { after(fn: () => Promise<void>): void }) {
  const { cert, key } = selfSignedCert();
  const server = await startInventory(grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(cert), private_key: Buffer.from(key) }]));
  t.after(() => server.close());
  return { server, cert };
}

test('grpcs:// targets speak TLS and verify the certificate against tls.ca', async (t) => {
  const { server, cert } = await tlsInventory(t);
  const gw = await startGateway({
    ...grpcFiles([`grpcs://localhost:${server.port}`], ROUTE, '    tls: { ca: ./ca.pem }\n'),
    'routes.d/ca.pem': cert,
  });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/items/abc`);
  assert.equal(res.statusCode, 200);
  assert.equal(((await res.body.json()) as Record<string, unknown>).sku, 'abc');
});

test('a self-signed gRPC target without tls.ca is refused (certificate verification is on)', async (t) => {
  const { server } = await tlsInventory(t);
  const gw = await startGateway(grpcFiles([`https://localhost:${server.port}`], ROUTE));
  t.after(() => gw.close());
  const res = await request(`${gw.url}/api/items/abc`);
  assert.equal(res.statusCode, 503);
  assert.equal(((await res.body.json()) as Record<string, unknown>).code, 'GRPC_UNAVAILABLE');
  assert.equal(server.calls.length, 0);
});
