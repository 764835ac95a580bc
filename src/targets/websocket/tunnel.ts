/**
 * The two sockets of a WebSocket connection after the 101, piped both ways. Frames are not
 * parsed: close frames (and their codes) pass through like any other bytes. Back-pressure is
 * the pipes'; an end on one side ends the other, an error or close on one side closes both.
 */
import type { Socket } from 'node:net';
import type { OpenTunnel, TunnelEnd } from './pending-upgrade.js';

/** How long one side may stay open after the other closed. */
const CLOSE_WAIT_MS = 5000;

export function openTunnel(client: Socket, upstream: Socket): OpenTunnel {
  let resolveClosed!: (end: TunnelEnd) => void;
  const closed = new Promise<TunnelEnd>((resolve) => (resolveClosed = resolve));
  let open = 2;
  let closedBy: TunnelEnd['closedBy'] | undefined;
  const onClose = (side: 'client' | 'upstream', other: Socket) => () => {
    closedBy ??= side;
    // The other side gets what was already written to it, then its own FIN; if it does not close after that, it is cut.
    if (!other.destroyed) {
      other.end();
      other.setTimeout(CLOSE_WAIT_MS, () => other.destroy());
    }
    if (--open === 0) resolveClosed({ closedBy: closedBy!, bytesIn: client.bytesRead, bytesOut: client.bytesWritten });
  };
  const onError = () => undefined; // the 'close' that follows does the work
  for (const s of [client, upstream]) {
    s.setTimeout(0);
    s.setNoDelay(true);
    s.on('error', onError);
  }
  client.once('close', onClose('client', upstream));
  upstream.once('close', onClose('upstream', client));
  client.pipe(upstream);
  upstream.pipe(client);
  return {
    close() {
      closedBy ??= 'gateway';
      client.destroy();
      upstream.destroy();
    },
    closed,
  };
}
