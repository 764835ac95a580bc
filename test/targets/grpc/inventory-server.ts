/** The shop.v1.Inventory test server: echoes requests into Items, fails on demand, streams, records every call. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadFixture, PROTOS, startGrpcServer, type GrpcOrigin, type Plain } from '../../helpers/grpc.js';

export const INVENTORY_PROTO = readFileSync(path.join(PROTOS, 'inventory.proto'), 'utf8');
/** 2024-05-06T07:08:09.500Z */
export const UPDATED_AT = { seconds: String(Date.UTC(2024, 4, 6, 7, 8, 9) / 1000), nanos: 500_000_000 };

export interface SeenCall {
  method: string;
  request: Plain;
  metadata: grpc.Metadata;
  deadline: grpc.Deadline;
}

export interface InventoryServer extends GrpcOrigin {
  calls: SeenCall[];
  /** Resolves when a Slow call is cancelled by its client. */
  slowCancelled: Promise<void>;
}

type Call = grpc.ServerUnaryCall<Plain, Plain>;
type Callback = grpc.sendUnaryData<Plain>;

export async function startInventory(credentials?: grpc.ServerCredentials): Promise<InventoryServer> {
  const root = await loadFixture('inventory.proto');
  const calls: SeenCall[] = [];
  let onSlowCancelled!: () => void;
  const slowCancelled = new Promise<void>((r) => (onSlowCancelled = r));
  const record = (method: string, call: { request: Plain; metadata: grpc.Metadata; getDeadline(): grpc.Deadline }) =>
    calls.push({ method, request: call.request, metadata: call.metadata, deadline: call.getDeadline() });

  const origin = await startGrpcServer(root, 'shop.v1.Inventory', {
    GetItem(call: Call, cb: Callback) {
      record('GetItem', call);
      const r = call.request;
      const header = new grpc.Metadata();
      header.set('x-stock-region', 'eu-1');
      call.sendMetadata(header);
      const trailer = new grpc.Metadata();
      trailer.set('x-stock-checked', 'yes');
      cb(
        null,
        {
          sku: r.sku,
          shelf: r.shelf,
          name: `item ${String(r.sku)}`,
          count: r.minCount ?? '9007199254740993',
          status: r.status ?? 'IN_STOCK',
          updatedAt: UPDATED_AT,
          ttl: { seconds: '1', nanos: 500_000_000 },
          tags: r.tags,
          filter: r.filter,
          sizes: ['1', '-2'],
        },
        trailer,
      );
    },
    CreateItem(call: Call, cb: Callback) {
      record('CreateItem', call);
      cb(null, { ...(call.request.item as Plain), shelf: call.request.shelf });
    },
    UpdateItem(call: Call, cb: Callback) {
      record('UpdateItem', call);
      cb(null, call.request);
    },
    GetByName(call: Call, cb: Callback) {
      record('GetByName', call);
      cb(null, call.request);
    },
    Fail(call: Call, cb: Callback) {
      record('Fail', call);
      const code = (grpc.status as unknown as Record<string, number>)[String(call.request.code)];
      cb({ code, details: String(call.request.message ?? '') });
    },
    Slow(call: Call) {
      record('Slow', call);
      call.on('cancelled', onSlowCancelled);
    },
    ListItems(call: grpc.ServerWritableStream<Plain, Plain>) {
      record('ListItems', call);
      const n = Number(call.request.count ?? 0);
      for (let i = 0; i < n; i++) call.write({ sku: `sku-${i}`, shelf: call.request.shelf, count: String(i) });
      const failWith = call.request.failWith as string | undefined;
      if (failWith) call.emit('error', { code: (grpc.status as unknown as Record<string, number>)[failWith], details: `stream failed after ${n}` });
      else call.end();
    },
  }, credentials);
  return { ...origin, calls, slowCancelled };
}

/** A route file with a grpc service `inventory` over `targets`, the proto beside it under protos/. */
export function grpcFiles(targets: string[], routes: string, serviceExtra = ''): Record<string, string> {
  return {
    'routes.d/protos/inventory.proto': INVENTORY_PROTO,
    'routes.d/inventory.yaml':
      `services:\n  inventory:\n    protocol: grpc\n    discovery:\n      static: [${targets.map((t) => JSON.stringify(t)).join(', ')}]\n${serviceExtra}routes:\n${routes}`,
  };
}
