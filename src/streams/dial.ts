/** Opens one TCP connection to a target, within a time limit. */
import net from 'node:net';
import { tcpAddress } from './target-address.js';

export class DialError extends Error {
  /** ECONNREFUSED, ETIMEDOUT (our limit), EHOSTUNREACH, ABORTED, ... */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'DialError';
    this.code = code;
  }
}

/**
 * Resolves with the connected socket (half-open allowed, so each direction can end on its own),
 * or rejects with a DialError after `timeoutMs` or when `signal` aborts.
 */
export function dial(url: string, timeoutMs: number, signal?: AbortSignal): Promise<net.Socket> {
  const { host, port } = tcpAddress(url);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DialError('ABORTED', `connect to ${url} aborted`));
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    const fail = (err: DialError) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException) => fail(new DialError(err.code ?? 'ERROR', `connect to ${url} failed: ${err.code ?? err.message}`));
    const onAbort = () => fail(new DialError('ABORTED', `connect to ${url} aborted`));
    const timer = setTimeout(() => fail(new DialError('ETIMEDOUT', `connect to ${url} timed out after ${timeoutMs}ms`)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('connect', onConnect);
      signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
