/**
 * The WebSocket benchmark's load, run as its own process (pinned to the load core): opens
 * CONNECTIONS sockets to URL, each sending one BYTES-byte binary message and the next as soon
 * as the echo arrives, for SECONDS. Prints `{"messages":N,"seconds":S}` (echoes received).
 *   node --import tsx bench/lib/ws-load.ts URL CONNECTIONS SECONDS BYTES
 */
import { WebSocket } from 'ws';

const [url, connections, seconds, bytes] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const payload = Buffer.alloc(bytes, 0x61);

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const sockets = await Promise.all(Array.from({ length: connections }, open));
let messages = 0;
let running = true;
const began = performance.now();
for (const ws of sockets) {
  ws.on('message', () => {
    if (!running) return;
    messages++;
    ws.send(payload);
  });
  ws.send(payload);
}
await new Promise((r) => setTimeout(r, seconds * 1000));
running = false;
const elapsed = (performance.now() - began) / 1000;
for (const ws of sockets) ws.terminate();
process.stdout.write(`${JSON.stringify({ messages, seconds: elapsed })}\n`);
process.exit(0);
