/**
 * WebSocket peers for tests, on the `ws` library: an echo origin on 127.0.0.1:0 that records
 * each upgrade it accepted and each close code it received, and a client that resolves once
 * open (or rejects with the HTTP answer it got instead of a 101).
 */
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { parseRaw, type RawResponse } from './raw-client.js';

export interface WsOrigin {
  /** http://127.0.0.1:PORT, for a service's static discovery. */
  readonly url: string;
  /** The upgrade requests the origin accepted (method, path, headers). */
  readonly upgrades: http.IncomingMessage[];
  /** Close codes received from the gateway's side, in order. */
  readonly closes: number[];
  /** The origin's side of each open connection. */
  readonly sockets: Set<WebSocket>;
  /** Resolves with the next close code the origin receives. */
  nextClose(): Promise<number>;
  close(): Promise<void>;
}

export interface WsOriginOptions {
  /** Refuse every upgrade with this status instead of accepting it. */
  refuse?: number;
  /** Serve wss:// (https://) with this certificate. */
  tls?: { cert: string; key: string };
  /** Extra header lines of the 101 (`Name: value`). */
  handshakeHeaders?: string[];
}

/**
 * Echoes every message back (binary stays binary). A text message `close:CODE` makes the
 * origin close the connection with CODE instead.
 */
export async function startWsOrigin(options: WsOriginOptions = {}): Promise<WsOrigin> {
  const plain = (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('plain http');
  const server = options.tls ? https.createServer(options.tls, plain) : http.createServer(plain);
  const upgrades: http.IncomingMessage[] = [];
  const closes: number[] = [];
  const sockets = new Set<WebSocket>();
  const waiting: ((code: number) => void)[] = [];
  const wss = new WebSocketServer({
    server,
    maxPayload: 64 * 1024 * 1024,
    verifyClient: options.refuse ? (_info, done) => done(false, options.refuse) : undefined,
  });
  if (options.handshakeHeaders) wss.on('headers', (lines: string[]) => lines.push(...options.handshakeHeaders!));
  wss.on('connection', (ws, req) => {
    upgrades.push(req);
    sockets.add(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const text = isBinary ? undefined : data.toString();
      if (text?.startsWith('close:')) ws.close(Number(text.slice(6)), 'origin closes');
      else ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code: number) => {
      sockets.delete(ws);
      closes.push(code);
      waiting.shift()?.(code);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    upgrades,
    closes,
    sockets,
    nextClose: () => new Promise<number>((resolve) => waiting.push(resolve)),
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the gateway answered instead of a 101. */
export class NotUpgraded extends Error {
  constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    readonly body: string,
  ) {
    super(`expected 101, got ${status}`);
  }
}

/** Opens a WebSocket to `url` (ws://…); rejects with NotUpgraded when the answer is not a 101. */
export function openWs(url: string, headers: Record<string, string> = {}, protocols: string[] = [], ca?: string): Promise<WebSocket & { handshake: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, maxPayload: 64 * 1024 * 1024, ...(ca ? { ca } : {}) });
    let handshake: http.IncomingHttpHeaders = {};
    ws.once('upgrade', (res: http.IncomingMessage) => (handshake = res.headers));
    ws.once('open', () => resolve(Object.assign(ws, { handshake })));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(new NotUpgraded(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString())));
    });
    ws.once('error', reject);
  });
}

/** The next message the socket receives, with whether it was binary. */
export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: RawData, binary: boolean) => resolve({ data: toBuffer(data), binary })));
}

/** Resolves with the close code the socket receives. */
export function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Sends a raw request head on a fresh socket and resolves with everything received once the gateway closes the socket. */
export function rawUntilClosed(port: number, text: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseRaw(Buffer.concat(chunks).toString())));
  });
}
