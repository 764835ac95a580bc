/**
 * An HTTP upgrade request on its way through the Fastify app: server.ts attaches the client's
 * socket to the request before routing it, so the route's plugins run first and only a
 * WebSocket route's handler takes the socket over. Every other answer (404, 401, 429, a plain
 * proxied response) is written as an ordinary HTTP response on that socket, which then closes.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

/** How a tunnel ended: which side closed first and the bytes on the client's connection (handshake included). */
export interface TunnelEnd {
  readonly closedBy: 'client' | 'upstream' | 'gateway';
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** An open tunnel between a client and an upstream socket (targets/websocket/tunnel.ts). */
export interface OpenTunnel {
  /** Ends both sockets now. */
  close(): void;
  /** Resolves once both sockets have closed. */
  readonly closed: Promise<TunnelEnd>;
}

export interface PendingUpgrade {
  readonly socket: Socket;
  /** Bytes the client sent after the request head, already read off the socket. */
  readonly head: Buffer;
  /** The client's Upgrade header (the request's own copy is removed as hop-by-hop before plugins run). */
  readonly protocol: string;
  /** The handler has switched protocols: the request is over for its app, the tunnel lives on. */
  opened(tunnel: OpenTunnel): void;
}

/** How long a refused upgrade's socket may stay half-open after the answer was written. */
const LINGER_MS = 5000;

const pending = new WeakMap<http.IncomingMessage, PendingUpgrade>();

export function attachUpgrade(req: http.IncomingMessage, upgrade: PendingUpgrade): void {
  pending.set(req, upgrade);
}

/** The upgrade this request asks for, or undefined for a plain request. */
export function pendingUpgrade(req: http.IncomingMessage): PendingUpgrade | undefined {
  return pending.get(req);
}

/**
 * A ServerResponse writing to an upgrade request's socket. Anything but a 101 is a final
 * answer: it says `Connection: close` and the socket ends once it is written.
 */
export function responseOnSocket(req: http.IncomingMessage, socket: Socket): http.ServerResponse {
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => {
    res.detachSocket(socket);
    // As node:http does for its own responses: 'close' follows 'finish' (hooks and plugins release their state on it).
    process.nextTick(() => res.emit('close'));
    if (res.statusCode === 101) return;
    // Read (and drop) whatever the client still sends so its FIN is seen; a client that never closes is cut off.
    socket.resume();
    socket.end();
    // A fixed deadline, not an idle timeout: a client trickling bytes must not keep the socket open.
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  });
  return res;
}
