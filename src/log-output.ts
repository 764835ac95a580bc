/**
 * Where the process logger's text goes. When stdout is a pipe or a socket (a container runtime,
 * systemd, a log shipper), it is written as a stream from the event loop: libuv writes what the
 * pipe takes at once and waits for room for the rest, with no thread in between. Anything else
 * (a file, a terminal) goes through sonic-boom's asynchronous writes, each of which is handed
 * to a libuv pool thread. On a pipe each write is at most PIPE_BUF bytes (unless one line is
 * longer), which the kernel writes whole: the lines of processes sharing the pipe (cluster
 * workers) never cut into each other. A stream whose reader falls behind by more than
 * MAX_BACKLOG_BYTES drops whole batches rather than growing without end, and says how many
 * lines it dropped once it is read again.
 */
import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import pino from 'pino';

/** How much unread text (in characters: bytes, for ASCII) a stream output holds before it drops batches. */
export const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;

export interface LogOutput {
  /** `stream`: written from the event loop; `file`: through sonic-boom. */
  readonly kind: 'stream' | 'file';
  /** False until the output takes writes (sonic-boom opens its descriptor asynchronously). */
  readonly ready: boolean;
  /** Writes up to this many bytes reach the reader whole, never cut by another process's (a pipe's PIPE_BUF). */
  readonly atomicWriteBytes?: number;
  /** Takes whole lines, newlines included. */
  write(text: string): void;
  /** Resolves once everything handed over is written, or after `maxMs`. */
  drained(maxMs: number): Promise<void>;
  /** At process exit: writes what is still held, as far as it can without the event loop. */
  flushAtExit(): void;
}

/**
 * PIPE_BUF: a write to a pipe up to this size is atomic, so lines from several processes
 * sharing the pipe never interleave (4096 on Linux; 512, the POSIX minimum, elsewhere).
 */
export const PIPE_ATOMIC_BYTES = process.platform === 'linux' ? 4096 : 512;

/** What `fd` is: a pipe, a socket, or anything else (a file, a terminal). */
export function fdKind(fd: number): 'pipe' | 'socket' | 'other' {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() ? 'pipe' : st.isSocket() ? 'socket' : 'other';
  } catch {
    return 'other';
  }
}

const newlines = (text: string): number => {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * Writes to `stream` (process.stdout on a pipe or socket); `atomicWriteBytes` when it is a pipe.
 * One write is handed to the stream at a time, the next when it is done: a stream given several
 * at once joins them into one `writev`, which a pipe may write in part, and another process's
 * lines would land in the gap. A stream that fails (EPIPE: the reader left) takes no more.
 */
export function streamOutput(stream: Writable, options: { atomicWriteBytes?: number; maxBacklog?: number } = {}): LogOutput {
  const { atomicWriteBytes, maxBacklog = MAX_BACKLOG_BYTES } = options;
  let broken = false;
  /** A write handed to the stream and not yet done. */
  let writing = false;
  /** Texts waiting for it, and their length. */
  let queue: string[] = [];
  let queued = 0;
  let dropped = 0;
  let waiters: (() => void)[] = [];
  const settle = () => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const stop = () => {
    broken = true;
    writing = false;
    queue = [];
    queued = 0;
    settle();
  };
  // A failed write (its callback comes before the stream's 'error') ends the output too.
  const next = (err?: Error | null) => {
    if (err || broken) return stop();
    const text = queue.shift();
    if (text === undefined) {
      writing = false;
      settle();
      return;
    }
    queued -= text.length;
    stream.write(text, next);
  };
  const send = (text: string) => {
    if (writing) {
      queue.push(text);
      queued += text.length;
      return;
    }
    writing = true;
    stream.write(text, next);
  };
  stream.on('error', stop);
  return {
    kind: 'stream',
    ready: true,
    atomicWriteBytes,
    write(text) {
      if (broken) return;
      if (queued > maxBacklog) {
        dropped += newlines(text);
        return;
      }
      if (dropped > 0) {
        // Its own write: the batch after it stays within atomicWriteBytes.
        const time = new Date().toISOString();
        send(`{"level":40,"time":"${time}","pid":${process.pid},"dropped":${dropped},"msg":"log lines dropped: stdout was not read for a while"}\n`);
        dropped = 0;
      }
      send(text);
    },
    drained(maxMs) {
      if (!writing || broken) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    // A write that finds nothing in flight goes out at once (libuv tries the write before queueing it).
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
  const kind = fdKind(1);
  if (kind === 'pipe') return streamOutput(process.stdout, { atomicWriteBytes: PIPE_ATOMIC_BYTES });
  return kind === 'socket' ? streamOutput(process.stdout) : fileOutput(1);
}
