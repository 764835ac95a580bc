/**
 * Hits on one key that arrive in the same turn of the event loop are counted by the store in
 * one command. Under load many requests reach a busy key (a route-wide limit, one client's
 * burst) between two turns; one Redis round trip and one socket write then serve all of them.
 * Each request still gets its own verdict, in arrival order, exactly as if its hit had been
 * counted on its own right after the previous one.
 */
import type { Verdict } from './store.js';

/** Counts `n` hits on `key` at once; answers one verdict per hit, in order. */
export type CountHits = (key: string, n: number) => Promise<readonly Verdict[]>;

/** A busy key's batch goes out at this size without waiting for the turn to end. */
export const MAX_BATCH = 500;

interface Waiting {
  readonly resolves: ((v: Verdict) => void)[];
  readonly rejects: ((err: unknown) => void)[];
}

export function batchedHits(count: CountHits): (key: string) => Promise<Verdict> {
  let pending = new Map<string, Waiting>();
  let scheduled = false;

  const send = (key: string, w: Waiting): void => {
    count(key, w.resolves.length).then(
      (verdicts) => {
        for (let i = 0; i < w.resolves.length; i++) w.resolves[i]!(verdicts[i]!);
      },
      (err: unknown) => {
        for (const reject of w.rejects) reject(err);
      },
    );
  };

  const flush = (): void => {
    scheduled = false;
    const batch = pending;
    pending = new Map();
    for (const [key, w] of batch) send(key, w);
  };

  return (key) =>
    new Promise<Verdict>((resolve, reject) => {
      let w = pending.get(key);
      if (!w) pending.set(key, (w = { resolves: [], rejects: [] }));
      w.resolves.push(resolve);
      w.rejects.push(reject);
      if (w.resolves.length >= MAX_BATCH) {
        pending.delete(key);
        send(key, w);
      } else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
