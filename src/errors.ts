/** Every response the gateway makes itself, in one table, as RFC 9457 problem+json. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';

export const ERRORS = {
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No route matches this request' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed on this route' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  URI_TOO_LONG: { status: 414, title: 'Request URI too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  INTERNAL_ERROR: { status: 500, title: 'Internal gateway error' },
  BAD_GATEWAY: { status: 502, title: 'Bad gateway' },
  UPSTREAM_UNAVAILABLE: { status: 503, title: 'Upstream unavailable' },
  CIRCUIT_OPEN: { status: 503, title: 'Circuit open' },
  RATE_LIMIT_UNAVAILABLE: { status: 503, title: 'Rate limit store unavailable' },
  SHUTTING_DOWN: { status: 503, title: 'Gateway is shutting down' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream timeout' },
  // upstream.replaceUpstreamErrors: the status is the upstream's own (src/targets/upstream-error-page.ts).
  UPSTREAM_ERROR: { status: 502, title: 'Upstream error' },
  // gRPC statuses as grpc-gateway maps them (src/targets/grpc/status-map.ts).
  GRPC_CANCELLED: { status: 499, title: 'gRPC call cancelled' },
  GRPC_UNKNOWN: { status: 500, title: 'gRPC unknown error' },
  GRPC_INVALID_ARGUMENT: { status: 400, title: 'gRPC invalid argument' },
  GRPC_DEADLINE_EXCEEDED: { status: 504, title: 'gRPC deadline exceeded' },
  GRPC_NOT_FOUND: { status: 404, title: 'gRPC not found' },
  GRPC_ALREADY_EXISTS: { status: 409, title: 'gRPC already exists' },
  GRPC_PERMISSION_DENIED: { status: 403, title: 'gRPC permission denied' },
  GRPC_RESOURCE_EXHAUSTED: { status: 429, title: 'gRPC resource exhausted' },
  GRPC_FAILED_PRECONDITION: { status: 400, title: 'gRPC failed precondition' },
  GRPC_ABORTED: { status: 409, title: 'gRPC aborted' },
  GRPC_OUT_OF_RANGE: { status: 400, title: 'gRPC out of range' },
  GRPC_UNIMPLEMENTED: { status: 501, title: 'gRPC method not implemented' },
  GRPC_INTERNAL: { status: 500, title: 'gRPC internal error' },
  GRPC_UNAVAILABLE: { status: 503, title: 'gRPC service unavailable' },
  GRPC_DATA_LOSS: { status: 500, title: 'gRPC data loss' },
  GRPC_UNAUTHENTICATED: { status: 401, title: 'gRPC unauthenticated' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const PROBLEM_TYPE_BASE = 'https://gatehouse.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  [extra: string]: unknown;
}

export function problemBody(code: ErrorCode, requestId: string, detail?: string, extra?: Record<string, unknown>): Problem {
  const e = ERRORS[code];
  return {
    type: `${PROBLEM_TYPE_BASE}${code.toLowerCase().replace(/_/g, '-')}`,
    title: e.title,
    status: e.status,
    detail: detail ?? e.title,
    code,
    requestId,
    ...extra,
  };
}

/** Sends a problem response (unless something was already sent). */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail?: string,
  extra?: { headers?: Record<string, string>; fields?: Record<string, unknown> },
): FastifyReply {
  if (reply.sent || reply.raw.headersSent) return reply;
  const body = problemBody(code, request.id, detail, extra?.fields);
  reply.code(body.status).header('content-type', PROBLEM_CONTENT_TYPE).header('x-request-id', request.id);
  if (extra?.headers) reply.headers(extra.headers);
  // HTTP/2 has no Connection header (Node drops it with a warning): the stream ends by itself.
  if (request.raw.httpVersionMajor === 2) reply.removeHeader('connection');
  return reply.send(JSON.stringify(body));
}

/** A problem response written on Node's own response object (the fast lane, which has no Fastify reply); returns its body size. */
export function writeProblem(res: ServerResponse, code: ErrorCode, requestId: string, detail?: string, headers?: Record<string, string>): number | undefined {
  if (res.headersSent || res.destroyed) return undefined;
  const body = JSON.stringify(problemBody(code, requestId, detail));
  const length = Buffer.byteLength(body);
  res.writeHead(ERRORS[code].status, { ...headers, 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': length, 'x-request-id': requestId });
  res.end(body);
  return length;
}

/** A raw HTTP/1.1 problem response, for errors found before Fastify has a request (parser errors). */
export function rawProblem(code: ErrorCode, requestId: string, detail?: string): string {
  const body = JSON.stringify(problemBody(code, requestId, detail));
  const e = ERRORS[code];
  return (
    `HTTP/1.1 ${e.status} ${e.title}\r\n` +
    `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`
  );
}

const GATEWAY_ERROR = Symbol.for('gatehouse.GatewayError');

/** An error a plugin or target throws to answer with one of the table's codes. */
export class GatewayError extends Error {
  /** Recognised across copies of this module (a plugin may import the package build). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[GATEWAY_ERROR] === true;
  }
  readonly [GATEWAY_ERROR] = true;
  readonly code: ErrorCode;
  readonly headers?: Record<string, string>;
  constructor(code: ErrorCode, detail?: string, headers?: Record<string, string>) {
    super(detail ?? ERRORS[code].title);
    this.name = 'GatewayError';
    this.code = code;
    this.headers = headers;
  }
}
