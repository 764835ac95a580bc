/**
 * fast-gateway (npm) as a peer in the benchmark: one prefix route to the upstream.
 *   node --import tsx bench/lib/fast-gateway-server.ts UPSTREAM_URL   (prints {"port":N})
 */
import { createRequire } from 'node:module';
import net, { type AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
const gateway = require('fast-gateway') as (opts: { routes: { prefix: string; target: string }[] }) => { start(port: number, host?: string): Promise<unknown> };

const probe = net.createServer();
await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
const port = (probe.address() as AddressInfo).port;
await new Promise<void>((r) => probe.close(() => r()));
await gateway({ routes: [{ prefix: '/plain', target: process.argv[2]! }] }).start(port, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ port })}\n`);
