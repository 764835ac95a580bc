/**
 * Where the process logger's text goes. When stdout is a pipe or a socket (a container runtime,
 * systemd, a log shipper), it is written as a stream from the event loop: libuv writes what the
 * pipe takes at once and waits for room for the rest, with no thread in between. Anything else
 * (a file, a terminal) goes through sonic-boom's asynchronous writes, each of which is handed
 * to a libuv pool thread. A stream whose reader falls behind by more than MAX_BACKLOG_BYTES
 * drops whole batches rather than growing without end, and says how many lines it dropped once
 * it is read again.
 */
import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import pino from 'pino';

/** How much unread text a stream output holds before it drops batches. */
export const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;

export interface LogOutput {
  /** `stream`: written from the event loop; `file`: through sonic-boom. */
  readonly kind: 'stream' | 'file';
  /** False until the output takes writes (sonic-boom opens its descriptor asynchronously). */
  readonly ready: boolean;
  /** Takes whole lines, newlines included. */
  write(text: string): void;
  /** Resolves once everything handed over is written, or after `maxMs`. */
  drained(maxMs: number): Promise<void>;
  /** At process exit: writes what is still held, as far as it can without the event loop. */
  flushAtExit(): void;
}

/** Whether `fd` is a pipe or a socket: a reader at the other end, not a file. */
export function isStreamFd(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

const newlines = (text: string): number => {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
};

/** Writes to `stream` (process.stdout on a pipe or socket). A stream that fails (EPIPE: the reader left) takes no more. */
export function streamOutput(stream: Writable, maxBacklog = MAX_BACKLOG_BYTES): LogOutput {
  let broken = false;
  let inFlight = 0;
  let dropped = 0;
  let waiters: (() => void)[] = [];
  const settle = () => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const written = () => {
    if (--inFlight === 0) settle();
  };
  stream.on('error', () => {
    broken = true;
    inFlight = 0;
    settle();
  });
  return {
    kind: 'stream',
    ready: true,
    write(text) {
      if (broken) return;
      if (stream.writableLength > maxBacklog) {
        dropped += newlines(text);
        return;
      }
      if (dropped > 0) {
        const time = new Date().toISOString();
        text = `{"level":40,"time":"${time}","pid":${process.pid},"dropped":${dropped},"msg":"log lines dropped: stdout was not read for a while"}\n${text}`;
        dropped = 0;
      }
      inFlight++;
      stream.write(text, written);
    },
    drained(maxMs) {
      if (inFlight === 0 || broken) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    // A write that finds nothing queued goes out at once (libuv tries the write before queueing it).
    flushAtExit: () => undefined,
  };
}

/** Writes to `fd` through sonic-boom, asynchronously; at exit, what it holds is written synchronously. */
export function fileOutput(fd: number): LogOutput {
  const destination = pino.destination({ dest: fd, sync: false });
  let ready = false;
  destination.once('ready', () => (ready = true));
  return {
    kind: 'file',
    get ready() {
      return ready;
    },
    write: (text) => void destination.write(text),
    drained: () => Promise.resolve(),
    flushAtExit: () => {
      if (ready) destination.flushSync();
    },
  };
}

/** The output for stdout: a stream for a pipe or a socket, sonic-boom otherwise. */
export function stdoutOutput(): LogOutput {
  return isStreamFd(1) ? streamOutput(process.stdout) : fileOutput(1);
}
