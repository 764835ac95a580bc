/**
 * The cancel signal of one proxied request: fired when the client leaves before its answer is
 * complete. An EventEmitter with `aborted` and `reason` is what undici accepts as a signal, and
 * costs far less per request than an AbortController (an EventTarget) on the hot path.
 */
import { EventEmitter } from 'node:events';
import { errors } from 'undici';

export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  once(event: 'abort', listener: () => void): unknown;
  removeListener(event: 'abort', listener: () => void): unknown;
}

/** A signal and its trigger in one object: fires 'abort' once, with the first reason given. */
export class Cancellation extends EventEmitter implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

export class ClientGone extends Cancellation {
  /** The default reason is undici's own abort error, so the failure reads as the client's, never the target's. */
  override abort(reason: unknown = new errors.RequestAbortedError('client closed the request')): void {
    super.abort(reason);
  }
}

/** A signal a call can be cancelled with: a ClientGone (proxy) or an AbortSignal (aggregate backends). */
export type CallSignal = CancelSignal | AbortSignal;

/** Calls `listener` once when `signal` fires; returns the function that stops listening. */
export function listen(signal: CallSignal, listener: () => void): () => void {
  onAbort(signal, listener);
  return () => offAbort(signal, listener);
}

/** `listener` runs once when `signal` fires (undo with offAbort): no closure made. */
export function onAbort(signal: CallSignal, listener: () => void): void {
  if ('addEventListener' in signal) signal.addEventListener('abort', listener, { once: true });
  else signal.once('abort', listener);
}

export function offAbort(signal: CallSignal, listener: () => void): void {
  if ('removeEventListener' in signal) signal.removeEventListener('abort', listener);
  else signal.removeListener('abort', listener);
}

/** Resolves after `ms`, or rejects as soon as `signal` fires. */
export function waitUnlessCancelled(ms: number, signal: CallSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const stop = listen(signal, () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
  });
}
