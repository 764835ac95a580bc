/**
 * The benchmark's HTTP upstream, run as its own process: answers every request with the same
 * ~100-byte JSON object (with an `accountId`, so aggregate routes can chain on it) on
 * `count` ports of 127.0.0.1, then prints `{"ports":[...]}`.
 *   node --import tsx bench/lib/upstream-server.ts [count]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = JSON.stringify({ id: 7, accountId: 'acct-7', name: 'bench item', status: 'ok', tags: ['a', 'b'], price: 12.5, n: 1 });
const count = Number(process.argv[2] ?? 1);
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ports.push((server.address() as AddressInfo).port);
}
process.stdout.write(`${JSON.stringify({ ports })}\n`);
