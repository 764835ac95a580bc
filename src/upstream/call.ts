/**
 * One upstream call: what a try needs (CallInput), what it gives back (CallResult), the error it
 * throws (UpstreamError), and the innermost step, poolCall, which sends one try to one target.
 * Breakers, the balancer's pick and retries are decorators around it (see targets/proxy.ts).
 */
import type { FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { GatewayError, type ErrorCode } from '../errors.js';
import type { CallSignal } from './client-gone.js';
import type { UpstreamTarget } from './target.js';
import { classifyUpstreamError, type FailureKind } from './upstream-errors.js';

export interface CallInput {
  readonly request: FastifyRequest;
  readonly method: Dispatcher.HttpMethod;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Dispatcher.RequestOptions['body'];
  /** The body can be sent again: absent, or buffered in memory. */
  readonly replayable: boolean;
  /** Fired when the client goes away. */
  readonly signal: CallSignal;
  /** Targets tried so far for this request (retries go elsewhere when they can). */
  readonly tried: Set<UpstreamTarget>;
}

export interface CallResult {
  readonly response: Dispatcher.ResponseData;
  readonly target: UpstreamTarget;
}

/** One try on a given target. */
export type TargetCall = (target: UpstreamTarget, input: CallInput) => Promise<CallResult>;
/** A call that chooses its target itself. */
export type UpstreamCall = (input: CallInput) => Promise<CallResult>;

/** Failure kinds of a whole call: those of one try, plus "nothing could be tried". */
export type CallFailureKind = FailureKind | 'no-target' | 'circuit-open';

/** A failed call, with the gateway's answer for it (code, detail, headers such as Retry-After). */
export class UpstreamError extends GatewayError {
  readonly kind: CallFailureKind;
  /** The target that failed, when one was tried. */
  readonly target: string | undefined;
  /** The connection was closed or reset before any response: what a stale keep-alive connection looks like. */
  readonly dropped: boolean;
  constructor(
    kind: CallFailureKind,
    code: ErrorCode,
    detail: string,
    options: { headers?: Record<string, string>; target?: string; cause?: unknown; dropped?: boolean } = {},
  ) {
    super(code, detail, options.headers);
    this.name = 'UpstreamError';
    this.kind = kind;
    this.target = options.target;
    this.dropped = options.dropped ?? false;
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

export interface CallTimeouts {
  /** Longest wait for the response head. */
  readonly headers: number;
  /** Longest pause while the response body streams. */
  readonly body: number;
}

const ignore = (): void => undefined;

const DROPPED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

function validStatus(code: number): boolean {
  return code >= 200 && code <= 599;
}

/** Sends one try through the target's keep-alive pool; counts it in target.inflight until its body closes. */
export function poolCall(service: string, timeouts: CallTimeouts): TargetCall {
  return async (target, input) => {
    target.inflight++;
    let response: Dispatcher.ResponseData;
    try {
      response = await target.pool.request({
        method: input.method,
        path: input.path,
        headers: input.headers,
        body: input.body,
        signal: input.signal as Dispatcher.RequestOptions['signal'],
        headersTimeout: timeouts.headers,
        bodyTimeout: timeouts.body,
      });
    } catch (err) {
      target.inflight--;
      // The client left: whatever undici reports, it is not the target's failure.
      if (input.signal.aborted) throw new UpstreamError('client-gone', 'BAD_GATEWAY', 'client closed the request', { target: target.url, cause: err });
      const failure = classifyUpstreamError(err, service);
      const dropped = failure.kind === 'reset' && DROPPED.has((err as { code?: string }).code ?? '');
      throw new UpstreamError(failure.kind, failure.code, failure.detail, { target: target.url, cause: err, dropped });
    }
    if (!validStatus(response.statusCode)) {
      response.body.on('error', ignore).destroy(); // destroying an unread body emits an abort error
      target.inflight--;
      throw new UpstreamError('reset', 'BAD_GATEWAY', `service ${service} answered with status ${response.statusCode}`, { target: target.url });
    }
    response.body.once('close', () => {
      target.inflight--;
    });
    return { response, target };
  };
}

/** Throws away a response that will not be sent (a retried one), keeping its connection when cheap. */
export function discard(result: CallResult): void {
  result.response.body.on('error', ignore);
  result.response.body.dump({ limit: 64 * 1024 }).catch(ignore);
}
