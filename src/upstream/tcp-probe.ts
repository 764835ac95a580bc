/** The active health probe of tcp services: a target passes when a TCP connection to it opens. */
import { dial, DialError } from '../streams/dial.js';
import type { Probe } from './active-health.js';

export function tcpProbe(timeoutMs: number): Probe {
  return async (target, signal) => {
    try {
      const socket = await dial(target.url, timeoutMs, signal);
      socket.destroy();
      return { ok: true, reason: 'TCP connect succeeded' };
    } catch (err) {
      const code = err instanceof DialError ? err.code : 'ERROR';
      return { ok: false, reason: code === 'ABORTED' || code === 'ETIMEDOUT' ? `TCP connect timed out after ${timeoutMs}ms` : `TCP connect failed (${code})` };
    }
  };
}
