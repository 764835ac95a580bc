/**
 * The demo's example services (examples/services/) as one process for the memory mode: users,
 * orders and payments (HTTP) and inventory (gRPC) on free ports of 127.0.0.1, then prints
 * `{"users":N,"orders":N,"payments":N,"inventory":N}`.
 *   node --import tsx bench/lib/demo-services.ts
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { listen } from '../../examples/services/service.js';
import { usersService } from '../../examples/services/users.js';
import { ordersService } from '../../examples/services/orders.js';
import { paymentsService } from '../../examples/services/payments.js';
import { inventoryService, listenGrpc } from '../../examples/services/inventory.js';

async function http(server: Server): Promise<number> {
  server.keepAliveTimeout = 120_000;
  await listen(server, 0, '127.0.0.1');
  return (server.address() as AddressInfo).port;
}

const ports = {
  users: await http(usersService()),
  orders: await http(ordersService()),
  payments: await http(paymentsService()),
  inventory: await listenGrpc(await inventoryService(), 0, '127.0.0.1'),
};
process.stdout.write(`${JSON.stringify(ports)}\n`);
