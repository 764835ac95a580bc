/**
 * One unary gRPC try on one target, through the same upstream steps as a proxied HTTP try:
 * observed (the target's latency EWMA and passive health, the upstream metrics, the trace span)
 * and judged by the target's circuit breaker. Those steps judge an answer by its HTTP status,
 * so a gRPC status counts as the HTTP status the gateway answers for it (grpc-gateway's table:
 * UNAVAILABLE 503, INTERNAL 500, DEADLINE_EXCEEDED 504, NOT_FOUND 404, ...): with the default
 * `failOn` the 5xx ones count against the target, client errors never do. A call that never
 * reached a server (no connection) is a connect error, and one the client abandoned is blameless.
 * A server stream is judged as an HTTP answer is by its head: by its first message (200) or, when
 * it ends before any, by its status; what happens later in the stream does not count.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { ERRORS } from '../../errors.js';
import type { UpstreamObserver } from '../../observability/upstream-observer.js';
import { UpstreamError, type CallInput, type TargetCall, type UpstreamAnswer } from '../../upstream/call.js';
import type { UpstreamService } from '../../upstream/service.js';
import type { UpstreamTarget } from '../../upstream/target.js';
import { observedTry } from '../../upstream/target-try.js';
import { GrpcCallError, type CallHandle, type CallListener, type CallStatus, type GrpcChannel } from './channel.js';
import { GrpcCode } from './status-codes.js';
import { errorCodeOf } from './status-map.js';

/** The channel's message when no connection to the target could be made. */
export const NOT_CONNECTED = /^No connection established/;

/** What one unary call gave: its one response message and metadata, or the status it failed with. */
export type UnaryOutcome = { readonly response: Buffer; readonly headers: IncomingHttpHeaders; readonly trailers: IncomingHttpHeaders } | { readonly error: GrpcCallError };

/** A unary call's outcome as the upstream steps see an answer: its status is the HTTP status of its gRPC status. */
export class GrpcAnswer implements UpstreamAnswer {
  readonly headers: IncomingHttpHeaders = {};
  constructor(
    readonly statusCode: number,
    readonly outcome: UnaryOutcome,
  ) {}

  discard(): void {
    /* the message is already read */
  }
}

/**
 * The UpstreamError of a call no server answered: the client left (client-gone, blameless), or
 * no connection could be made (connect-error). Undefined when a server sent the status.
 */
function noServerAnswered(err: GrpcCallError, input: CallInput, target: UpstreamTarget): UpstreamError | undefined {
  if (err.code === GrpcCode.CANCELLED && input.signal.aborted) return new UpstreamError('client-gone', 'GRPC_CANCELLED', 'client closed the request', { target: target.url, cause: err });
  if (err.code === GrpcCode.UNAVAILABLE && NOT_CONNECTED.test(err.details)) return new UpstreamError('connect-error', 'GRPC_UNAVAILABLE', err.details, { target: target.url, cause: err });
  return undefined;
}

/** The HTTP status the gateway answers for a gRPC status (200 for OK). */
export function httpStatusOfGrpc(code: number): number {
  return code === GrpcCode.OK ? 200 : ERRORS[errorCodeOf(code)].status;
}

/** A gRPC try's input: the call's metadata are its `headers` (the observer may add trace context to them). */
export interface GrpcTryInput extends CallInput {
  /** The request message, encoded. */
  readonly message: Buffer;
  /** Milliseconds left of the route's timeout: the try's deadline. */
  readonly timeLeft: () => number;
}

/** Sends one unary call: resolves with the message, rejects with the GrpcCallError of any other status. */
export type UnarySend = (channel: GrpcChannel, input: GrpcTryInput) => Promise<Exclude<UnaryOutcome, { error: GrpcCallError }>>;

/**
 * The try of `service`'s unary calls: `send` on the target's channel, observed, through the
 * target's breaker when the service has one. Rejects with an UpstreamError only when no server
 * answered (connect-error, with the GrpcCallError as its cause) or the client left (client-gone);
 * every status a server sent resolves, as a GrpcAnswer.
 */
export function resilientUnaryTry(
  service: UpstreamService,
  observer: UpstreamObserver,
  channelOf: (target: UpstreamTarget) => GrpcChannel,
  send: UnarySend,
): TargetCall<GrpcAnswer> {
  const once: TargetCall<GrpcAnswer> = (target, input) => {
    target.inflight++;
    // The handler makes every input of these tries a GrpcTryInput; the steps pass it on as given.
    return send(channelOf(target), input as GrpcTryInput).then(
      (ok) => {
        target.inflight--;
        return { response: new GrpcAnswer(200, ok), target };
      },
      (err: unknown) => {
        target.inflight--;
        if (!(err instanceof GrpcCallError)) throw err;
        const unanswered = noServerAnswered(err, input, target);
        if (unanswered) throw unanswered;
        return { response: new GrpcAnswer(httpStatusOfGrpc(err.code), { error: err }), target };
      },
    );
  };
  return observedTry(service, observer, once);
}

/**
 * A server stream's events, kept from the call's start until the handler takes them (the try
 * settles at the first message, a turn before the handler gets its answer).
 */
export class StreamRelay implements CallListener {
  private listener: CallListener | undefined;
  private readonly held: (() => void)[] = [];

  onHeaders(headers: IncomingHttpHeaders): void {
    if (this.listener) this.listener.onHeaders?.(headers);
    else this.held.push(() => this.listener!.onHeaders?.(headers));
  }

  onMessage(message: Buffer): void {
    if (this.listener) this.listener.onMessage(message);
    else this.held.push(() => this.listener!.onMessage(message));
  }

  onEnd(status: CallStatus): void {
    if (this.listener) this.listener.onEnd(status);
    else this.held.push(() => this.listener!.onEnd(status));
  }

  /** Hands what came so far to `listener`, then everything that follows. */
  attach(listener: CallListener): void {
    this.listener = listener;
    for (const replay of this.held.splice(0)) replay();
  }
}

/** A server stream as the upstream steps see its answer: 200 once a message came, else the HTTP status of its status. */
export class GrpcStreamAnswer implements UpstreamAnswer {
  readonly headers: IncomingHttpHeaders = {};
  constructor(
    readonly statusCode: number,
    /** The stream's events: attach to read them. */
    readonly relay: StreamRelay,
    readonly handle: CallHandle,
  ) {}

  discard(): void {
    this.handle.cancel();
  }
}

/** Starts a server-streaming call with `listener` on the channel. */
export type StreamStart = (channel: GrpcChannel, input: GrpcTryInput, listener: CallListener) => CallHandle;

/**
 * The try of `service`'s server-streaming calls, observed and through the target's breaker like
 * a unary try; settles at the first message or at an end before any. The target counts the
 * stream in flight until it ends.
 */
export function resilientStreamTry(
  service: UpstreamService,
  observer: UpstreamObserver,
  channelOf: (target: UpstreamTarget) => GrpcChannel,
  start: StreamStart,
): TargetCall<GrpcStreamAnswer> {
  const once: TargetCall<GrpcStreamAnswer> = (target, input) =>
    new Promise((resolve, reject) => {
      const relay = new StreamRelay();
      let settled = false;
      target.inflight++;
      const handle = start(channelOf(target), input as GrpcTryInput, {
        onHeaders: (headers) => relay.onHeaders(headers),
        onMessage: (message) => {
          if (!settled) {
            settled = true;
            resolve({ response: new GrpcStreamAnswer(200, relay, handle), target });
          }
          relay.onMessage(message);
        },
        onEnd: (status) => {
          target.inflight--;
          if (!settled) {
            settled = true;
            const unanswered = status.code === GrpcCode.OK ? undefined : noServerAnswered(new GrpcCallError(status), input, target);
            if (unanswered) {
              reject(unanswered);
              return;
            }
            resolve({ response: new GrpcStreamAnswer(httpStatusOfGrpc(status.code), relay, handle), target });
          }
          relay.onEnd(status);
        },
      });
    });
  return observedTry(service, observer, once);
}
