/**
 * Long config work (loading and building 10,000 routes) gives the event loop a turn every so
 * often, so the running generation keeps answering requests while the next one is built.
 */
import { setImmediate as immediate } from 'node:timers/promises';

/** Items handled between two turns of the event loop in long loops. */
export const YIELD_EVERY = 100;

/** Returns a function to call once per item; it yields to the event loop every `every` calls. */
export function yielder(every = YIELD_EVERY): () => Promise<void> | undefined {
  let n = 0;
  return () => (++n % every === 0 ? immediate() : undefined);
}
