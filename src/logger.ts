/**
 * The process logger: pino JSON lines on stdout, written asynchronously (no sync I/O per
 * request). Lines are gathered up to 4 KiB per write (under load, one write carries many
 * access-log lines) and whatever is gathered goes out within FLUSH_EVERY_MS anyway, and
 * before the process exits.
 */
import pino, { type Logger } from 'pino';

const BATCH_BYTES = 4096;
const FLUSH_EVERY_MS = 100;

export function createLogger(level: string = process.env.GATEHOUSE_LOG_LEVEL ?? 'info'): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES });
  let ready = false;
  destination.once('ready', () => (ready = true));
  const flusher = setInterval(() => {
    if (!ready) return;
    try {
      destination.flush();
    } catch {
      /* stdout is gone */
    }
  }, FLUSH_EVERY_MS);
  flusher.unref();
  // Whatever is still buffered goes out before the process ends.
  process.once('exit', () => {
    clearInterval(flusher);
    try {
      destination.flushSync();
    } catch {
      /* not ready yet, or stdout is gone */
    }
  });
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
