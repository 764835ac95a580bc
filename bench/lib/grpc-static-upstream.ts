/**
 * The benchmark's light gRPC upstream, its own process: a node:http2 server that answers every
 * call with one fixed shop.v1.Item (encoded once with the fixture proto), as the static Node
 * upstream answers the HTTP rows. It reads each request to its end and replies the way gRPC
 * servers do (200, application/grpc, one length-prefixed message, grpc-status 0 in trailers).
 *
 * A grpc-js server costs several times as much per call, and on a 2-core machine it shares the
 * load generator's core: with the gateway's own HTTP/2 client it became the limit of the
 * REST->gRPC row (bench/README.md). The grpc-js upstream still runs its own row. Prints `{"port":N}`.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { loadFixture } from '../../test/helpers/grpc.js';

const root = await loadFixture('inventory.proto');
const Item = root.lookupType('shop.v1.Item');
const item = Buffer.from(Item.encode(Item.fromObject({ sku: 'sku-7', shelf: 's1', name: 'bench item', count: '3', status: 'IN_STOCK' })).finish());
const answer = Buffer.alloc(5 + item.length);
answer.writeUInt32BE(item.length, 1);
item.copy(answer, 5);

const HEAD = { ':status': 200, 'content-type': 'application/grpc' };
const TRAILERS = { 'grpc-status': '0' };

const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('error', () => undefined);
  stream.on('wantTrailers', () => stream.sendTrailers(TRAILERS));
  stream.resume();
  stream.on('end', () => {
    if (stream.destroyed) return;
    stream.respond(HEAD, { waitForTrailers: true });
    stream.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
