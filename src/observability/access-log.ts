/** One structured line per request, with secrets left out: headers are never logged, named query values are redacted. */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { isoTime, lineSinkOf, type LineSink } from '../logger.js';
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

/** What one served request tells the access log, from Fastify's request and reply. */
export function servedRequest(request: FastifyRequest, reply: FastifyReply): ServedRequest {
  return {
    routeId: routeIdOf(request),
    method: request.method,
    url: request.url,
    status: reply.statusCode,
    ms: reply.elapsedTime,
    contentLength: reply.getHeader('content-length'),
    ip: request.ip ?? notedPeer(request.raw),
    state: request.gatehouse,
  };
}

/** Writes one access-log line: `reqId` is the request's id, `requestLog` its logger (made only when needed). */
export type AccessLogWrite = (served: ServedRequest, reqId: string, requestLog: () => FastifyBaseLogger) => void;

const text = (s: string | undefined | null): string => (s === undefined || s === null ? 'null' : JSON.stringify(s));
const num = (n: number | null | undefined): string => (n !== undefined && n !== null && Number.isFinite(n) ? String(n) : 'null');

/** The line pino writes for `logger.child({ reqId }).info(accessLogEntry(served), 'request')` of a createLogger logger, made directly. */
export function accessLogText(served: ServedRequest, reqId: string, redact: ReadonlySet<string>, sink: Pick<LineSink, 'base'>): string {
  const { state, contentLength } = served;
  const bytes = contentLength !== undefined ? Number(contentLength) : state?.bytes;
  return (
    `{"level":30${isoTime()}${sink.base},"reqId":${text(reqId)},"route":${text(served.routeId)},"method":${text(served.method)}` +
    `,"path":${text(redactQuery(served.url, redact))},"status":${num(served.status)},"ms":${num(Math.round(served.ms * 100) / 100)}` +
    `,"target":${text(state?.target)},"bytes":${num(bytes)},"client":${text(served.ip)},"consumer":${text(state?.consumer)},"msg":"request"}\n`
  );
}

/**
 * The access log's writer for `logger`. For the gateway's own logger (createLogger) the line is
 * made as text and handed to the logger's output, as pino would write it but without building
 * an object, a child logger and pino's generic serialisation for each request (~10 µs of a
 * proxied request's CPU, bench/README.md). Any other logger gets the entry through its request
 * logger, formatted its own way.
 */
export function accessLogWriter(logger: FastifyBaseLogger, redact: ReadonlySet<string>): AccessLogWrite {
  const sink = lineSinkOf(logger);
  if (!sink) return (served, _reqId, requestLog) => requestLog().info(accessLogEntry(served, redact), 'request');
  const levels = logger as unknown as { isLevelEnabled(level: string): boolean };
  return (served, reqId) => {
    if (levels.isLevelEnabled('info')) sink.write(accessLogText(served, reqId, redact, sink));
  };
}
