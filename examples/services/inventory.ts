/** The demo's gRPC microservice: shop.v1.Inventory from routes.d/protos/inventory.proto, on grpc-js. */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const PROTO = path.resolve(import.meta.dirname, '../../routes.d/protos/inventory.proto');
const SHIPPED = path.resolve(import.meta.dirname, '../../protos');
const PROTOBUFJS = path.dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));

type Plain = Record<string, unknown>;

const stock = new Map<string, { name: string; quantity: number }>([
  ['sku-1', { name: 'Desk lamp', quantity: 12 }],
  ['sku-2', { name: 'Office chair', quantity: 0 }],
  ['sku-3', { name: 'Notebook', quantity: 250 }],
]);
const restocked = { seconds: Math.floor(Date.UTC(2026, 0, 15, 9, 30) / 1000), nanos: 0 };

function itemOf(sku: string): Plain | undefined {
  const s = stock.get(sku);
  return s && { sku, name: s.name, quantity: s.quantity, availability: s.quantity > 0 ? 'IN_STOCK' : 'SOLD_OUT', restockedAt: restocked };
}

async function definition(): Promise<Record<string, grpc.MethodDefinition<Plain, Plain>>> {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (target.startsWith('google/api/')) return path.join(SHIPPED, target);
    if (target === 'google/protobuf/descriptor.proto') return path.join(PROTOBUFJS, target);
    return protobuf.util.path.resolve(origin, target);
  };
  await root.load(PROTO, { keepCase: false });
  root.resolveAll();
  const def: Record<string, grpc.MethodDefinition<Plain, Plain>> = {};
  for (const m of root.lookupService('shop.v1.Inventory').methodsArray) {
    const req = m.resolvedRequestType!;
    const res = m.resolvedResponseType!;
    def[m.name] = {
      path: `/shop.v1.Inventory/${m.name}`,
      requestStream: false,
      responseStream: m.responseStream === true,
      requestSerialize: (v) => Buffer.from(req.encode(req.fromObject(v)).finish()),
      requestDeserialize: (b) => req.toObject(req.decode(b), { longs: Number }) as Plain,
      responseSerialize: (v) => Buffer.from(res.encode(res.fromObject(v)).finish()),
      responseDeserialize: (b) => res.toObject(res.decode(b)) as Plain,
    };
  }
  return def;
}

export async function inventoryService(): Promise<grpc.Server> {
  const server = new grpc.Server();
  server.addService(await definition(), {
    GetItem(call: grpc.ServerUnaryCall<Plain, Plain>, cb: grpc.sendUnaryData<Plain>) {
      const item = itemOf(String(call.request.sku ?? ''));
      if (!item) return cb({ code: grpc.status.NOT_FOUND, details: `no item ${String(call.request.sku)}` });
      cb(null, item);
    },
    ListItems(call: grpc.ServerWritableStream<Plain, Plain>) {
      const limit = Number(call.request.limit ?? 0) || stock.size;
      for (const sku of [...stock.keys()].slice(0, limit)) call.write(itemOf(sku)!);
      call.end();
    },
    Reserve(call: grpc.ServerUnaryCall<Plain, Plain>, cb: grpc.sendUnaryData<Plain>) {
      const sku = String(call.request.sku ?? '');
      const want = Number(call.request.quantity ?? 0);
      const s = stock.get(sku);
      if (!s) return cb({ code: grpc.status.NOT_FOUND, details: `no item ${sku}` });
      if (want <= 0) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'quantity must be at least 1' });
      if (want > s.quantity) return cb({ code: grpc.status.FAILED_PRECONDITION, details: `only ${s.quantity} of ${sku} left` });
      s.quantity -= want;
      cb(null, itemOf(sku)!);
    },
  });
  return server;
}

export function listenGrpc(server: grpc.Server, port: number, host = process.env.HOST ?? '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
}

if (process.argv[1] && new URL(`file://${process.argv[1]}`).pathname === new URL(import.meta.url).pathname) {
  const port = Number(process.env.PORT ?? 3104);
  void inventoryService()
    .then((s) => listenGrpc(s, port, process.env.HOST ?? '0.0.0.0'))
    .then(() => console.log(JSON.stringify({ msg: 'inventory (gRPC) listening', port })));
}
