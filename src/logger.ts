/** The process logger (pino, JSON lines). */
import pino, { type Logger } from 'pino';

export function createLogger(level: string = process.env.GATEHOUSE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
