/**
 * The benchmark's gRPC upstream, its own process: shop.v1.Inventory/GetItem from the test
 * fixture proto, answering a small Item. Prints `{"port":N}`.
 */
import { loadFixture, startGrpcServer, type Plain } from '../../test/helpers/grpc.js';
import type * as grpc from '@grpc/grpc-js';

const root = await loadFixture('inventory.proto');
const origin = await startGrpcServer(root, 'shop.v1.Inventory', {
  GetItem(call: grpc.ServerUnaryCall<Plain, Plain>, cb: grpc.sendUnaryData<Plain>) {
    cb(null, { sku: call.request.sku, shelf: call.request.shelf, name: 'bench item', count: '3', status: 'IN_STOCK' });
  },
});
process.stdout.write(`${JSON.stringify({ port: origin.port })}\n`);
