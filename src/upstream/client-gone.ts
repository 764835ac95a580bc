/**
 * The cancel signal of one proxied request: fired when the client leaves before its answer is
 * complete. What undici accepts as a signal is an EventEmitter-like object (`on`, `once`,
 * `removeListener`, `aborted`, `reason`); this one keeps just that, with its listeners in a
 * plain field, and costs far less per request than an AbortController (an EventTarget) or an
 * EventEmitter on the hot path.
 */
import { errors } from 'undici';

export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  once(event: 'abort', listener: () => void): unknown;
  removeListener(event: 'abort', listener: () => void): unknown;
}

type Listener = () => void;

/** A signal and its trigger in one object: fires its 'abort' listeners once, with the first reason given. */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  /** One listener, or several in order. */
  private listeners: Listener | Listener[] | undefined = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const l = this.listeners;
    this.listeners = undefined;
    if (typeof l === 'function') l();
    else if (l) for (const f of l) f();
  }

  /** Listeners run once (the signal fires once), so `on` and `once` are the same. */
  once(_event: 'abort', listener: Listener): this {
    const l = this.listeners;
    if (l === undefined) this.listeners = listener;
    else if (typeof l === 'function') this.listeners = [l, listener];
    else l.push(listener);
    return this;
  }

  on(event: 'abort', listener: Listener): this {
    return this.once(event, listener);
  }

  removeListener(_event: 'abort', listener: Listener): this {
    const l = this.listeners;
    if (l === listener) this.listeners = undefined;
    else if (Array.isArray(l)) {
      const i = l.indexOf(listener);
      if (i !== -1) l.splice(i, 1);
    }
    return this;
  }

  listenerCount(_event: 'abort'): number {
    const l = this.listeners;
    return l === undefined ? 0 : typeof l === 'function' ? 1 : l.length;
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
