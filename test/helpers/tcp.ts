/** Raw TCP peers for stream tests: an echo service, a free port nobody listens on, and a client. */
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';

export interface TcpService {
  port: number;
  /** `tcp://127.0.0.1:PORT` */
  url: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections that sent at least one byte (health probes only connect). */
  served: number;
  /** Connections open now. */
  readonly open: Set<net.Socket>;
  /** Open connections that sent at least one byte. */
  readonly talking: Set<net.Socket>;
  close(): Promise<void>;
}

/**
 * `echo`: every byte comes back as it arrives, and the reply ends when the client's side ends.
 * `count`: says nothing until the client ends its side, then answers `got N bytes` and ends
 * (only a proxy that keeps the other direction open after a half-close delivers it).
 */
export async function startTcpService(mode: 'echo' | 'count' = 'echo'): Promise<TcpService> {
  const open = new Set<net.Socket>();
  const talking = new Set<net.Socket>();
  let closing = false;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    if (closing) return socket.destroy();
    svc.accepted++;
    open.add(socket);
    socket.once('data', () => {
      svc.served++;
      if (!socket.destroyed) talking.add(socket);
    });
    socket.on('close', () => (open.delete(socket), talking.delete(socket)));
    socket.on('error', () => socket.destroy());
    if (mode === 'echo') {
      socket.pipe(socket);
      return;
    }
    let bytes = 0;
    socket.on('data', (c: Buffer) => (bytes += c.length));
    socket.on('end', () => socket.end(`got ${bytes} bytes`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const svc: TcpService = {
    port,
    url: `tcp://127.0.0.1:${port}`,
    accepted: 0,
    served: 0,
    open,
    talking,
    close: () =>
      new Promise<void>((r) => {
        closing = true;
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
  return svc;
}

/** A port on 127.0.0.1 that refuses connections: the HTTP helpers' closedPort. */
export { closedPort as refusedPort } from './upstream.js';

export interface Exchange {
  /** Everything the other side sent until it ended or closed. */
  received: Buffer;
  /** The other side ended cleanly (FIN) rather than only closing. */
  ended: boolean;
}

/** Connects (TLS with `ca` when given), sends `data`, ends its side and collects the answer until close. */
export function exchange(port: number, data: Buffer | string, options: { ca?: string } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = options.ca
      ? tls.connect({ host: '127.0.0.1', port, ca: options.ca, servername: 'localhost' })
      : net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = false;
    socket.once(options.ca ? 'secureConnect' : 'connect', () => socket.end(data));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => (ended = true));
    socket.on('error', reject);
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), ended }));
  });
}

/** An open client connection for tests that talk back and forth. */
export interface OpenClient {
  socket: net.Socket;
  /** Bytes received so far. */
  received(): string;
  closed: Promise<void>;
  /** Resolves when `text` has been received in total. */
  waitFor(text: string): Promise<void>;
}

/** A client that ends its side when the other side ends (not half-open), so `closed` follows the gateway's close. */
export async function openClient(port: number): Promise<OpenClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  socket.on('data', (c: Buffer) => {
    text += c.toString();
    for (const w of [...waiters]) if (text.includes(w.text)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    socket,
    received: () => text,
    closed,
    waitFor: (want) => (text.includes(want) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text: want, resolve }))),
  };
}

/** A route file with one tcp service `tcpsvc` over `targets`, and the given streams YAML (indented list items). */
export function streamFile(targets: string[], streams: string, serviceExtra = ''): string {
  return `services:\n  tcpsvc:\n    protocol: tcp\n    discovery:\n      static: [${targets.map((t) => JSON.stringify(t)).join(', ')}]\n${serviceExtra}streams:\n${streams}`;
}
