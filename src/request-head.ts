/**
 * What the gateway refuses of a request head before routing it (target length, header count and
 * size, a bad target, two Host headers), the normalised target of one it accepts, and the
 * request id. Fastify's rewriteUrl (app.ts) and the fast lane (fast-lane/) both start here.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { normalizeTarget } from './routing/normalize-path.js';

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
export const MAX_URL_LENGTH = 8192;
export const MAX_HEADER_COUNT = 100;
/** Largest request head (HTTP/1.1: Node's parser enforces it; HTTP/2: checkRequestHead below). */
export const MAX_HEADER_BYTES = 16 * 1024;

export type Refusal = { code: 'BAD_REQUEST' | 'URI_TOO_LONG' | 'HEADERS_TOO_LARGE'; reason: string };
/** An accepted head: its normalised target, whole (`url`) and as path and query. */
export type AcceptedHead = { url: string; path: string; query: string };

const CHECKED = Symbol('gatehouse.checkedHead');
type CheckedRequest = http.IncomingMessage & { [CHECKED]?: Refusal | AcceptedHead };

/**
 * The outcome for this request, worked out once: the fast lane checks first, and a request it
 * leaves to Fastify is not checked again in rewriteUrl.
 */
export function checkRequestHead(req: http.IncomingMessage): Refusal | AcceptedHead {
  return ((req as CheckedRequest)[CHECKED] ??= checkHead(req));
}

function checkHead(req: http.IncomingMessage): Refusal | AcceptedHead {
  const url = req.url ?? '/';
  if (url.length > MAX_URL_LENGTH) return { code: 'URI_TOO_LONG', reason: `the request target is over ${MAX_URL_LENGTH} bytes` };
  // HTTP/2 requests also list their pseudo-headers (:method, :path, ...) in rawHeaders.
  const pseudo = req.httpVersionMajor === 2 ? countPseudo(req.rawHeaders) : 0;
  if (req.rawHeaders.length - pseudo * 2 > MAX_HEADER_COUNT * 2) return { code: 'HEADERS_TOO_LARGE', reason: `more than ${MAX_HEADER_COUNT} header fields` };
  if (pseudo > 0 && headerBytes(req.rawHeaders) > MAX_HEADER_BYTES) return { code: 'HEADERS_TOO_LARGE', reason: `request headers over ${MAX_HEADER_BYTES} bytes` };
  const n = normalizeTarget(url);
  if (!n.ok) return { code: 'BAD_REQUEST', reason: n.reason };
  if (countHost(req.rawHeaders) > 1) return { code: 'BAD_REQUEST', reason: 'more than one Host header' };
  const authority = req.headers[':authority'];
  if (typeof authority === 'string' && req.headers.host !== undefined && req.headers.host !== authority) {
    return { code: 'BAD_REQUEST', reason: 'Host differs from :authority' };
  }
  return n;
}

/** The client's x-request-id when it is usable, else a new one. */
export function requestIdOf(req: { headers: http.IncomingHttpHeaders }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function countPseudo(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.startsWith(':')) n++;
  return n;
}

function headerBytes(raw: readonly string[]): number {
  let n = 0;
  for (const part of raw) n += part.length;
  return n;
}

function countHost(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') n++;
  return n;
}
