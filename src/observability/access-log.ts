/** One structured line per request, with secrets left out: headers are never logged, named query values are redacted. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestState } from '../request-state.js';
import { routeIdOf } from '../table-dispatch.js';

export function redactQuery(url: string, names: ReadonlySet<string>): string {
  const q = url.indexOf('?');
  if (q === -1 || names.size === 0) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      const key = eq === -1 ? p : p.slice(0, eq);
      let name = key;
      try {
        name = decodeURIComponent(key);
      } catch {
        /* keep as is */
      }
      return eq !== -1 && names.has(name.toLowerCase()) ? `${key}=[redacted]` : p;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

const PEER = Symbol('gatehouse.peer');
type PeerNoted = { [PEER]?: string | undefined; socket: { remoteAddress?: string | undefined } | null };

/**
 * Keeps the client's address on the request as it arrives. Node takes the socket off a request
 * whose connection has closed, so a client that hangs up as soon as its answer arrives would
 * otherwise be logged without one.
 */
export function notePeer(req: object): void {
  const r = req as PeerNoted;
  r[PEER] = r.socket?.remoteAddress;
}

/** The address notePeer kept, for a request whose socket is gone. */
export function notedPeer(req: object): string | undefined {
  return (req as PeerNoted)[PEER];
}

/** What an access-log line tells of one served request, from Fastify or the fast lane. */
export interface ServedRequest {
  readonly routeId: string | undefined;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly ms: number;
  /** The response's Content-Length header, when it had one. */
  readonly contentLength: unknown;
  readonly ip: string | undefined;
  readonly state: RequestState | null;
}

export function accessLogEntry(served: ServedRequest, redact: ReadonlySet<string>): Record<string, unknown> {
  const { state, contentLength } = served;
  return {
    route: served.routeId ?? null,
    method: served.method,
    path: redactQuery(served.url, redact),
    status: served.status,
    ms: Math.round(served.ms * 100) / 100,
    target: state?.target ?? null,
    bytes: contentLength !== undefined ? Number(contentLength) : (state?.bytes ?? null),
    client: served.ip ?? null,
    consumer: state?.consumer ?? null,
  };
}

export function accessLogLine(request: FastifyRequest, reply: FastifyReply, redact: ReadonlySet<string>): Record<string, unknown> {
  return accessLogEntry(
    {
      routeId: routeIdOf(request),
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: reply.elapsedTime,
      contentLength: reply.getHeader('content-length'),
      ip: request.ip ?? notedPeer(request.raw),
      state: request.gatehouse,
    },
    redact,
  );
}
