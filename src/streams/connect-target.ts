/**
 * Connects a stream's client to one target of its service: the balancer picks, a failed connect
 * counts against that target (passive health) and the next pick excludes it, until a connect
 * succeeds or every target was tried.
 */
import type net from 'node:net';
import type { UpstreamService } from '../upstream/service.js';
import type { UpstreamTarget } from '../upstream/target.js';
import { dial, DialError } from './dial.js';

export interface Connected {
  readonly target: UpstreamTarget;
  readonly socket: net.Socket;
}

export interface ConnectOptions {
  /** Milliseconds for one target's connect. */
  readonly timeoutMs: number;
  /** The consistent-hash key (the client address). */
  readonly key: string | undefined;
  readonly signal: AbortSignal;
  /** Told about each target whose connect failed. */
  readonly onFailure: (target: UpstreamTarget, err: DialError) => void;
}

/**
 * Resolves with the connected target, or undefined when none could be reached. The target's
 * `inflight` counts this connection from the attempt on (least-connections reads it); on
 * success the caller gives it back when the connection ends.
 */
export async function connectTarget(service: UpstreamService, options: ConnectOptions): Promise<Connected | undefined> {
  const tried = new Set<UpstreamTarget>();
  for (;;) {
    const target = service.pick(undefined, tried, options.key);
    if (!target || tried.has(target) || options.signal.aborted) return undefined;
    tried.add(target);
    target.inflight++;
    const started = performance.now();
    try {
      const socket = await dial(target.url, options.timeoutMs, options.signal);
      target.observe(performance.now() - started, true);
      return { target, socket };
    } catch (err) {
      target.inflight--;
      if (options.signal.aborted) return undefined;
      target.observe(performance.now() - started, false);
      options.onFailure(target, err instanceof DialError ? err : new DialError('ERROR', (err as Error).message));
    }
  }
}
