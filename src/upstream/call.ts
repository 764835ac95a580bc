/**
 * One upstream call: what a try needs (CallInput), what it gives back (CallResult), the error it
 * throws (UpstreamError), and the innermost step, poolCall, which sends one try to one target.
 * Breakers, the balancer's pick and retries are decorators around it (see targets/proxy.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { CallerRequest } from '../request-state.js';
import { GatewayError, type ErrorCode } from '../errors.js';
import type { CallSignal } from './client-gone.js';
import type { UpstreamTarget } from './target.js';
import { classifyUpstreamError, type FailureKind } from './upstream-errors.js';

export interface CallInput {
  readonly request: CallerRequest;
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

/** The head of an upstream answer, its body still waiting to be read (or thrown away). */
export interface UpstreamAnswer {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** Throws the unread body away (a retried or replaced answer), keeping the connection when cheap. */
  discard(): void;
}

export interface CallResult<A extends UpstreamAnswer = UpstreamAnswer> {
  readonly response: A;
  readonly target: UpstreamTarget;
}

/** One try on a given target. */
export type TargetCall<A extends UpstreamAnswer = UpstreamAnswer> = (target: UpstreamTarget, input: CallInput) => Promise<CallResult<A>>;
/** A call that chooses its target itself. */
export type UpstreamCall<A extends UpstreamAnswer = UpstreamAnswer> = (input: CallInput) => Promise<CallResult<A>>;

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

export function validStatus(code: number): boolean {
  return code >= 200 && code <= 599;
}

/** The UpstreamError of a try that failed before any answer (undici's error, classified). */
export function tryFailure(err: unknown, service: string, target: UpstreamTarget, signal: CallSignal): UpstreamError {
  // The client left: whatever undici reports, it is not the target's failure.
  if (signal.aborted) return new UpstreamError('client-gone', 'BAD_GATEWAY', 'client closed the request', { target: target.url, cause: err });
  const failure = classifyUpstreamError(err, service);
  const dropped = failure.kind === 'reset' && DROPPED.has((err as { code?: string }).code ?? '');
  return new UpstreamError(failure.kind, failure.code, failure.detail, { target: target.url, cause: err, dropped });
}

/** The error of an answer whose status is no HTTP status (below 200 or above 599). */
export function badStatus(service: string, status: number, target: UpstreamTarget): UpstreamError {
  return new UpstreamError('reset', 'BAD_GATEWAY', `service ${service} answered with status ${status}`, { target: target.url });
}

/** An answer read through undici's request(): its body is a Readable (aggregate parts read it whole). */
export class ReadableAnswer implements UpstreamAnswer {
  constructor(private readonly data: Dispatcher.ResponseData) {}
  get statusCode(): number {
    return this.data.statusCode;
  }
  get headers(): IncomingHttpHeaders {
    return this.data.headers;
  }
  get body(): Dispatcher.ResponseData['body'] {
    return this.data.body;
  }
  discard(): void {
    this.data.body.on('error', ignore);
    this.data.body.dump({ limit: 64 * 1024 }).catch(ignore);
  }
}

/** Sends one try through the target's keep-alive pool; counts it in target.inflight until its body closes. */
export function poolCall(service: string, timeouts: CallTimeouts): TargetCall<ReadableAnswer> {
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
      throw tryFailure(err, service, target, input.signal);
    }
    if (!validStatus(response.statusCode)) {
      response.body.on('error', ignore).destroy(); // destroying an unread body emits an abort error
      target.inflight--;
      throw badStatus(service, response.statusCode, target);
    }
    response.body.once('close', () => {
      target.inflight--;
    });
    return { response: new ReadableAnswer(response), target };
  };
}
