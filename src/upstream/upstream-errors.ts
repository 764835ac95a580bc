/** What an undici failure means to the client: which of the gateway's codes answers it. */
import type { ErrorCode } from '../errors.js';
import { GatewayError } from '../errors.js';

/**
 * What went wrong, as retry policies and breakers name it: `connect-error` (no connection was
 * made: nothing reached the upstream), `timeout`, `reset` (connection reset, closed early or
 * garbage), `client-gone`, or `request` (the client's own fault: never the target's).
 */
export type FailureKind = 'connect-error' | 'timeout' | 'reset' | 'client-gone' | 'request';

export interface UpstreamFailure {
  kind: FailureKind;
  code: ErrorCode;
  detail: string;
  /** Nothing reached the upstream, so another try is safe for any method. */
  beforeSend: boolean;
  /** The client left: nothing to answer. */
  clientGone: boolean;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

export function classifyUpstreamError(err: unknown, service: string): UpstreamFailure {
  if (err instanceof GatewayError) return { kind: 'request', code: err.code, detail: err.message, beforeSend: false, clientGone: false };
  const e = err as NodeJS.ErrnoException & { code?: string };
  const code = e?.code ?? '';
  if (code === 'UND_ERR_ABORTED' || e?.name === 'AbortError') {
    return { kind: 'client-gone', code: 'BAD_GATEWAY', detail: 'client closed the request', beforeSend: false, clientGone: true };
  }
  if (UNREACHABLE.has(code)) {
    return { kind: 'connect-error', code: 'UPSTREAM_UNAVAILABLE', detail: `service ${service} is unreachable (${code})`, beforeSend: true, clientGone: false };
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { kind: 'timeout', code: 'UPSTREAM_TIMEOUT', detail: `service ${service} did not answer in time`, beforeSend: false, clientGone: false };
  }
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return { kind: 'request', code: 'BAD_REQUEST', detail: 'request body does not match its Content-Length', beforeSend: false, clientGone: false };
  }
  const what = code.startsWith('HPE_') || e?.name === 'HTTPParserError' ? 'sent a malformed response' : 'closed the connection';
  return { kind: 'reset', code: 'BAD_GATEWAY', detail: `service ${service} ${what} (${code || e?.message || 'error'})`, beforeSend: false, clientGone: false };
}
