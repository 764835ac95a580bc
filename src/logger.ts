/**
 * The process logger: pino JSON lines on stdout, written asynchronously (no sync I/O per
 * request; where they go: log-output.ts). Lines are gathered up to 16 KiB (on a pipe, what it
 * writes whole: 4 KiB) and handed to the output as one write; whatever is gathered goes out
 * within FLUSH_EVERY_MS anyway, and before the process exits. Gathering here rather than with
 * sonic-boom's `minLength` matters: sonic-boom measures its whole pending buffer on every
 * write, which made each access-log line cost ~2 µs more.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { stdoutOutput, type LogOutput } from './log-output.js';

// sonic-boom writes at most 16 KiB per call; on a file each write is a hand-off to a libuv worker thread.
const BATCH_BYTES = 16 * 1024;
const FLUSH_EVERY_MS = 100;

/** How a batch measures a line: characters (cheap, near enough for a file), or its UTF-8 bytes. */
export type LineSize = (line: string) => number;
const characters: LineSize = (line) => line.length;
export const utf8Bytes: LineSize = (line) => Buffer.byteLength(line, 'utf8');

/**
 * Lines gathered up to `limit` (as `sizeOf` measures them), then written to `out` in one
 * call. A line that would take the batch past the limit goes into the next one, so no write
 * is larger than the limit unless a single line is.
 */
export class LineBatch implements DestinationStream {
  private lines: string[] = [];
  private size = 0;

  constructor(
    private readonly out: { write(text: string): unknown },
    private readonly limit = BATCH_BYTES,
    private readonly sizeOf: LineSize = characters,
  ) {}

  write(line: string): void {
    const n = this.sizeOf(line);
    if (this.size > 0 && this.size + n > this.limit) this.flush();
    this.lines.push(line);
    this.size += n;
    if (this.size >= this.limit) this.flush();
  }

  /** Hands whatever is gathered to the destination. */
  flush(): void {
    if (this.size === 0) return;
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.size = 0;
    this.out.write(text);
  }
}

let stampedMs = -1;
let stamp = '';

/** pino's isoTime, made once per millisecond: under load many lines share one. */
export function isoTime(now = Date.now()): string {
  if (now !== stampedMs) {
    stampedMs = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

/**
 * The loggers createLogger made, with where their lines go: the access log writes its lines
 * there directly (observability/access-log.ts), in the same format pino gives them.
 */
const SINKS = new WeakMap<object, LineSink>();

export interface LineSink {
  /** Takes whole lines, newline included. */
  write(line: string): void;
  /** `,"pid":N`: the bindings every line of the logger carries. */
  readonly base: string;
  /** Writes what is gathered and resolves once the output has written it, or after `maxMs`. */
  settle(maxMs: number): Promise<void>;
}

/** Where `logger`'s lines go, when createLogger made it (other loggers have their own formats). */
export function lineSinkOf(logger: object): LineSink | undefined {
  return SINKS.get(logger);
}

/**
 * Before a deliberate exit: whatever `logger` (a createLogger one) has gathered is written, and
 * this resolves once its output took it, or after `maxMs` (a reader that stopped reading).
 */
export function logsWritten(logger: object, maxMs = 2000): Promise<void> {
  return SINKS.get(logger)?.settle(maxMs) ?? Promise.resolve();
}

/**
 * The gateway's logger. `to` replaces stdout (tests): lines are handed to it as they come.
 */
export function createLogger(level: string = process.env.GATEHOUSE_LOG_LEVEL ?? 'info', to?: { write(text: string): unknown }): Logger {
  const options = { level, base: { pid: process.pid }, timestamp: () => isoTime() };
  const base = `,"pid":${process.pid}`;
  if (to) {
    const write = (line: string): void => void to.write(line);
    const logger = pino(options, { write });
    SINKS.set(logger, { write, base, settle: () => Promise.resolve() });
    return logger;
  }
  return batchedLogger(options, base, stdoutOutput());
}

function batchedLogger(options: pino.LoggerOptions, base: string, output: LogOutput): Logger {
  // On a pipe, batches no larger than what the pipe writes whole: lines of processes sharing it
  // (cluster workers, a shell's pipeline) never cut into each other.
  const batch = output.atomicWriteBytes !== undefined ? new LineBatch(output, output.atomicWriteBytes, utf8Bytes) : new LineBatch(output);
  const flush = () => {
    if (!output.ready) return;
    try {
      batch.flush();
    } catch {
      /* stdout is gone */
    }
  };
  const flusher = setInterval(flush, FLUSH_EVERY_MS);
  flusher.unref();
  // Whatever is still gathered goes out before the process ends.
  process.once('exit', () => {
    clearInterval(flusher);
    flush();
    try {
      output.flushAtExit();
    } catch {
      /* stdout is gone */
    }
  });
  const logger = pino(options, batch);
  SINKS.set(logger, {
    write: (line) => batch.write(line),
    base,
    settle: (maxMs) => {
      flush();
      return output.drained(maxMs);
    },
  });
  return logger;
}
