/**
 * One try sent with undici's dispatch API, its answer held at the head: the decorators judge the
 * status (retries, breakers, error pages) before any byte reaches the client; then the body is
 * written straight into the client's response as it arrives, with no Readable in between
 * (writeTo), or thrown away (discard). The answer is its own dispatch handler, so a try costs
 * one object and one promise.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestState } from '../request-state.js';
import { badStatus, tryFailure, validStatus, type CallResult, type CallTimeouts, type TargetCall, type UpstreamAnswer, type CallInput } from './call.js';
import { offAbort, onAbort } from './client-gone.js';
import { collectRawHeaders, type RawHeaders } from './hop-by-hop.js';
import type { UpstreamTarget } from './target.js';

/** Body bytes held before the client's response takes them (one socket read, at most). */
const HOLD_LIMIT = 64 * 1024;
/** A discarded body longer than this closes its connection instead of being read to the end. */
const DISCARD_LIMIT = 64 * 1024;

/** What the body is written into: the client's response (HTTP/1.1 or HTTP/2). */
export interface BodySink {
  readonly destroyed: boolean;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  destroy(err?: Error): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
}

/** Header names and values from undici's raw list; repeated names (Set-Cookie) become arrays. */
export function parseRawHeaders(raw: RawHeaders): IncomingHttpHeaders {
  return collectRawHeaders(raw);
}

export class StreamedAnswer implements UpstreamAnswer, Dispatcher.DispatchHandler {
  statusCode = 0;
  /** The head's headers as read (name, value, ...): bytes from undici, strings from the gateway's own client. */
  rawHeaders: RawHeaders = [];
  private parsed: IncomingHttpHeaders | undefined;
  /** Body bytes received from the upstream. */
  bytes = 0;
  readonly head: Promise<CallResult<StreamedAnswer>>;

  private resolveHead!: (result: CallResult<StreamedAnswer>) => void;
  private rejectHead!: (err: unknown) => void;
  private headSettled = false;
  private finished = false;
  private ended = false;
  private bodyError: Error | undefined;
  private abortFn: ((err?: Error) => void) | undefined;
  private resumeFn: (() => void) | undefined;
  private paused = false;
  /** Chunks that arrived before a consumer chose writeTo or discard. */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  private sink: BodySink | undefined;
  private collector: { limit: number; chunks: Buffer[]; resolve: (body: Buffer) => void; reject: (err: unknown) => void; tooBig: () => Error } | undefined;
  private dropping = false;
  private state: RequestState | undefined;

  constructor(
    private readonly service: string,
    private readonly target: UpstreamTarget,
    private readonly input: CallInput,
  ) {
    this.head = new Promise((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    onAbort(input.signal, this.onCancel);
  }

  /** The head's headers, parsed on first use (the proxy filters rawHeaders directly). */
  get headers(): IncomingHttpHeaders {
    return (this.parsed ??= parseRawHeaders(this.rawHeaders));
  }

  private onCancel = (): void => {
    this.abortFn?.(this.input.signal.reason as Error);
  };

  /** The client's response closed: before the body ended, the client left (HTTP/2 says writableFinished then too). */
  private onSinkClose = (): void => {
    if (!this.finished) this.abortFn?.(new Error('client closed the response'));
  };

  private onDrain = (): void => {
    this.resumeUpstream();
  };

  private resumeUpstream(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeFn?.();
  }

  /** Once per try: the body ended or failed, or no answer came. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.target.inflight--;
    offAbort(this.input.signal, this.onCancel);
    if (this.state && this.bodyError === undefined) this.state.bytes = this.bytes;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.input.signal.aborted) abort(this.input.signal.reason as Error);
  }

  onHeaders(statusCode: number, rawHeaders: RawHeaders, resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx informational (undici refuses 100 itself): the final head follows
    this.resumeFn = resume;
    if (!validStatus(statusCode)) {
      this.headSettled = true;
      this.finish();
      this.rejectHead(badStatus(this.service, statusCode, this.target));
      this.abortFn?.(new Error('invalid status'));
      return false;
    }
    this.statusCode = statusCode;
    this.rawHeaders = rawHeaders;
    this.headSettled = true;
    this.resolveHead({ response: this, target: this.target });
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.collector) {
      this.collect1(chunk);
      return true;
    }
    if (this.sink) {
      if (this.sink.write(chunk)) return true;
      this.paused = true;
      this.sink.once('drain', this.onDrain);
      return false;
    }
    if (this.dropping) {
      if (this.bytes > DISCARD_LIMIT) this.abortFn?.(new Error('discarded'));
      return true;
    }
    (this.held ??= []).push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < HOLD_LIMIT) return true;
    this.paused = true;
    return false;
  }

  onComplete(): void {
    this.ended = true;
    this.finish();
    this.sink?.end();
    const c = this.collector;
    if (c) c.resolve(c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks));
  }

  onError(err: Error): void {
    if (!this.headSettled) {
      this.headSettled = true;
      this.finish();
      this.rejectHead(tryFailure(err, this.service, this.target, this.input.signal));
      return;
    }
    if (this.finished) return;
    this.bodyError = err;
    this.finish();
    // The head is out: the client's response can only be cut short.
    if (this.sink && !this.sink.destroyed) this.sink.destroy(err);
    this.collector?.reject(err);
  }

  private collect1(chunk: Buffer): void {
    const c = this.collector!;
    c.chunks.push(chunk);
    if (this.bytes <= c.limit) return;
    this.collector = undefined;
    this.dropping = true;
    c.reject(c.tooBig());
    this.abortFn?.(new Error('body over the limit'));
  }

  /**
   * The whole body, read into memory up to `limit` bytes (an aggregate's part); beyond that it
   * rejects with `tooBig()` and the connection is closed. A body that breaks off rejects with
   * undici's error.
   */
  collect(limit: number, tooBig: () => Error): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const held = this.held ?? [];
      this.held = undefined;
      if (this.bytes > limit) {
        this.dropping = true;
        reject(tooBig());
        if (!this.finished) this.abortFn?.(new Error('body over the limit'));
        return;
      }
      if (this.bodyError) return reject(this.bodyError);
      if (this.ended) return resolve(held.length === 1 ? held[0]! : Buffer.concat(held));
      this.collector = { limit, chunks: held, resolve, reject, tooBig };
      this.resumeUpstream();
    });
  }

  /**
   * Sends the body into `res`, whose head the caller has written; records the body size in
   * `state` (the access log's `bytes`) when it ends.
   */
  writeTo(res: BodySink, state?: RequestState): void {
    this.state = state;
    if (this.finished && state && this.bodyError === undefined) state.bytes = this.bytes;
    const held = this.held;
    this.held = undefined;
    if (this.ended && this.bodyError === undefined) {
      // The whole body is here already (a small answer): one call writes it and ends the response.
      if (held) {
        for (let i = 0; i < held.length - 1; i++) res.write(held[i]!);
        res.end(held[held.length - 1]);
      } else res.end();
      return;
    }
    if (held) for (const chunk of held) res.write(chunk);
    if (this.bodyError) {
      res.destroy(this.bodyError);
      return;
    }
    this.sink = res;
    res.once('close', this.onSinkClose);
    this.resumeUpstream();
  }

  discard(): void {
    this.held = undefined;
    if (this.finished) return;
    this.dropping = true;
    if (this.bytes > DISCARD_LIMIT) this.abortFn?.(new Error('discarded'));
    else this.resumeUpstream();
  }
}

/**
 * Sends one try through the target's keep-alive pool, its answer held at the head; counts it in
 * target.inflight until its body ends. A bodiless request goes through the gateway's own
 * HTTP/1.1 pool when the target has one (upstream/h1/), anything else through undici's.
 */
export function poolStream(service: string, timeouts: CallTimeouts): TargetCall<StreamedAnswer> {
  return (target, input) => {
    target.inflight++;
    const answer = new StreamedAnswer(service, target, input);
    const own = input.body === undefined || input.body === null ? target.h1 : undefined;
    if (own !== undefined) {
      own.dispatch({ method: input.method, path: input.path, headers: input.headers, headersTimeout: timeouts.headers, bodyTimeout: timeouts.body }, answer);
      return answer.head;
    }
    target.pool.dispatch(
      {
        method: input.method,
        path: input.path,
        headers: input.headers,
        body: input.body,
        headersTimeout: timeouts.headers,
        bodyTimeout: timeouts.body,
      },
      answer,
    );
    return answer.head;
  };
}
