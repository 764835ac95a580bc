/**
 * `upstream.replaceUpstreamErrors`: an upstream error page (4xx/5xx) is swapped for the gateway's
 * own problem+json with the same status, so backend stack traces and HTML error pages never reach clients.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problemBody, type Problem } from '../errors.js';
import type { ReplaceUpstreamErrorsConfig } from '../config/schema.js';

/** Which upstream statuses are replaced; undefined when none are. */
export function upstreamErrorMatcher(config: ReplaceUpstreamErrorsConfig): ((status: number) => boolean) | undefined {
  if (config === false) return undefined;
  if (config === true) return (status) => status >= 400;
  const exact = new Set<number>();
  const classes = new Set<number>();
  for (const c of config) {
    if (typeof c === 'number') exact.add(c);
    else classes.add(Number(c[0]));
  }
  return (status) => exact.has(status) || classes.has(Math.floor(status / 100));
}

/** Headers of an upstream error response that describe its body and so do not survive the replacement. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location', 'content-range', 'etag', 'last-modified', 'content-disposition'];

export function upstreamErrorProblem(status: number, requestId: string): Problem {
  const body = problemBody('UPSTREAM_ERROR', requestId, `the upstream answered ${status} ${STATUS_CODES[status] ?? 'Error'}`);
  body.status = status;
  return body;
}

/**
 * Sends the replacement. The upstream's other headers (Retry-After, WWW-Authenticate, Allow, ...)
 * are kept; `headers` are already filtered of hop-by-hop and hidden ones.
 */
export function sendUpstreamErrorProblem(request: FastifyRequest, reply: FastifyReply, status: number, headers: Record<string, string | string[]>): FastifyReply {
  for (const h of BODY_HEADERS) delete headers[h];
  const body = JSON.stringify(upstreamErrorProblem(status, request.id));
  reply.code(status).headers(headers).header('content-type', PROBLEM_CONTENT_TYPE).header('x-request-id', request.id);
  return reply.send(body);
}
