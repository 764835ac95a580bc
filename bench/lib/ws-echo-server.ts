/**
 * The WebSocket benchmark's upstream, run as its own process: a `ws` echo server on
 * 127.0.0.1, every message sent back as it came. Prints `{"port":N}`.
 *   node --import tsx bench/lib/ws-echo-server.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

const server = http.createServer((_req, res) => res.writeHead(426).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
