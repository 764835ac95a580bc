/** The process logger: pino JSON lines on stdout, written asynchronously (no sync I/O per request). */
import pino, { type Logger } from 'pino';

export function createLogger(level: string = process.env.GATEHOUSE_LOG_LEVEL ?? 'info'): Logger {
  const destination = pino.destination({ dest: 1, sync: false });
  // Whatever is still buffered goes out before the process ends.
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      /* not ready yet, or stdout is gone */
    }
  });
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
