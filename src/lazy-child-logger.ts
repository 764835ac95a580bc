/**
 * A request's logger, made only when something logs through it. Fastify gives every request a
 * child logger (carrying its reqId); making a pino child costs more than the rest of a
 * request's logging, and most requests log nothing but the access-log line, which is written
 * without it. This stands in for the child and makes the real one on first use.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

function forward(logger: FastifyBaseLogger, level: Level, args: unknown[]): void {
  (logger[level] as (...a: unknown[]) => void).apply(logger, args);
}

export class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options?: ChildLoggerOptions,
  ) {}

  /** The real child logger, made on first use. */
  get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made ? this.made.level : (this.options?.level ?? this.parent.level);
  }

  set level(level: string) {
    this.real.level = level;
  }

  fatal(...args: unknown[]): void {
    forward(this.real, 'fatal', args);
  }
  error(...args: unknown[]): void {
    forward(this.real, 'error', args);
  }
  warn(...args: unknown[]): void {
    forward(this.real, 'warn', args);
  }
  info(...args: unknown[]): void {
    forward(this.real, 'info', args);
  }
  debug(...args: unknown[]): void {
    forward(this.real, 'debug', args);
  }
  trace(...args: unknown[]): void {
    forward(this.real, 'trace', args);
  }
  silent(...args: unknown[]): void {
    forward(this.real, 'silent', args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/** Fastify's childLoggerFactory option: each request's logger is a LazyChildLogger. */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options);
}
