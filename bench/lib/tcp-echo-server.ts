/**
 * The benchmark's TCP upstream, run as its own process: echoes every byte back on a port of
 * 127.0.0.1, then prints `{"port":N}`.
 *   node --import tsx bench/lib/tcp-echo-server.ts
 */
import net, { type AddressInfo } from 'node:net';

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
