/**
 * `npm run demo`: starts the example microservices and the gateway with ./gatehouse.yaml and
 * routes.d/, then prints curl lines that work as printed. Ctrl-C stops everything.
 * Ports: DEMO_PORT (gateway, 8080), GATEHOUSE_ADMIN_PORT (9901), DEMO_SERVICES_BASE (3101).
 */
import path from 'node:path';
import type { Server } from 'node:http';
import { Gateway } from '../src/server.js';
import { ConfigError, formatIssue } from '../src/config/diagnostics.js';
import { createLogger } from '../src/logger.js';
import { listen } from './services/service.js';
import { demoToken } from './demo-token.js';
import { usersService } from './services/users.js';
import { ordersService } from './services/orders.js';
import { paymentsService } from './services/payments.js';
import { inventoryService, listenGrpc } from './services/inventory.js';

const root = path.resolve(import.meta.dirname, '..');
const base = Number(process.env.DEMO_SERVICES_BASE ?? 3101);
const port = Number(process.env.DEMO_PORT ?? 8080);
const adminPort = Number(process.env.GATEHOUSE_ADMIN_PORT ?? 9901);

const services: [string, Server, number][] = [
  ['users', usersService(), base],
  ['orders', ordersService(), base + 1],
  ['payments', paymentsService(), base + 2],
];
for (const [, server, p] of services) await listen(server, p);
const inventory = await inventoryService();
await listenGrpc(inventory, base + 3);
process.env.USERS_URL ??= `http://127.0.0.1:${base}`;
process.env.ORDERS_URL ??= `http://127.0.0.1:${base + 1}`;
process.env.PAYMENTS_URL ??= `http://127.0.0.1:${base + 2}`;
process.env.INVENTORY_URL ??= `grpc://127.0.0.1:${base + 3}`;

const logger = createLogger(process.env.GATEHOUSE_LOG_LEVEL ?? 'warn');
let gateway: Gateway;
try {
  gateway = await Gateway.start({ configFile: path.join(root, 'gatehouse.yaml'), logger, port, host: '127.0.0.1', adminPort, watch: true });
} catch (err) {
  if (err instanceof ConfigError) for (const i of err.issues) console.error(formatIssue(i));
  else console.error(err);
  process.exit(1);
}

const g = `http://127.0.0.1:${port}`;
const a = `http://127.0.0.1:${adminPort}`;
const lines = [
  `curl -s ${g}/api/users/1`,
  `curl -s ${g}/api/orders/o-1`,
  `curl -s '${g}/api/orders?user=1'`,
  `curl -s -X POST ${g}/api/orders -H 'x-tenant: acme' -H 'content-type: application/json' -d '{"item":"book"}'`,
  `curl -s ${g}/api/payments/acc-1 -H 'x-api-version: 1'`,
  `curl -s ${g}/api/dashboard/1`,
  `curl -s -i -X DELETE ${g}/api/users/1`,
  `curl -s ${g}/api/inventory/sku-1`,
  `curl -s '${g}/api/inventory?limit=1'`,
  `curl -s -X POST ${g}/api/inventory/sku-3/reservations -H 'content-type: application/json' -d '{"quantity":"2"}'`,
  `curl -s ${g}/api/me -H 'authorization: Bearer ${demoToken()}'`,
  `curl -s -i ${g}/api/me`,
  `curl -s ${a}/routes`,
  `curl -s ${a}/services`,
];
console.log(`\nGatehouse demo: gateway on ${g}, admin on ${a}; services ${services.map(([n, , p]) => `${n}:${p}`).join(', ')}, inventory (gRPC):${base + 3}.`);
console.log('Try:\n');
for (const l of lines) console.log(`  ${l}`);
console.log(`\nEdit routes.d/*.yaml and the gateway reloads by itself. Ctrl-C stops the demo.\n`);
console.log('demo ready');

const stop = () => {
  void gateway.close(2000).then(() => {
    for (const [, s] of services) s.close();
    inventory.forceShutdown();
    process.exit(0);
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
