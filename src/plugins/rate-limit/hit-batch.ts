/**
 * Hits on one key are counted by the store in batches: one command counts them all. A key's
 * hits gathered in one turn of the event loop go out together at the end of the turn, and while
 * a key's command is in flight its new hits wait for the answer, then go out as the next batch
 * (at most one command per key in flight, like TCP's Nagle). Under load a busy key (a
 * route-wide limit, one client's burst) thus costs one Redis round trip per round trip's worth
 * of requests, not one per request or per turn; an idle key's hit still goes out in the turn it
 * came. Each request still gets its own verdict, in arrival order, exactly as if its hit had
 * been counted on its own right after the previous one.
 */
import type { Verdict } from './store.js';

/** Counts `n` hits on `key` at once; answers one verdict per hit, in order. */
export type CountHits = (key: string, n: number) => Promise<readonly Verdict[]>;

/**
 * A batch goes out at this size without waiting for the turn to end or for the key's command in
 * flight, so a slow store holds at most this many hits per batch (commands on one connection are
 * answered in order, so the verdicts keep the arrival order).
 */
export const MAX_BATCH = 500;

class Batch {
  readonly resolves: ((v: Verdict) => void)[] = [];
  readonly rejects: ((err: unknown) => void)[] = [];
}

/** One key's state: the hits not sent yet, and how many commands for it are in flight. */
class KeyQueue {
  waiting: Batch | undefined;
  inFlight = 0;
  constructor(readonly key: string) {}
}

export function batchedHits(count: CountHits): (key: string) => Promise<Verdict> {
  const queues = new Map<string, KeyQueue>();
  /** Keys with hits gathered in this turn, sent when it ends. */
  let due: KeyQueue[] = [];

  const send = (q: KeyQueue): void => {
    const batch = q.waiting!;
    q.waiting = undefined;
    q.inFlight++;
    const settled = (): void => {
      q.inFlight--;
      if (q.waiting !== undefined) sendAtEndOfTurn(q);
      else if (q.inFlight === 0) queues.delete(q.key);
    };
    count(q.key, batch.resolves.length).then(
      (verdicts) => {
        for (let i = 0; i < batch.resolves.length; i++) batch.resolves[i]!(verdicts[i]!);
        settled();
      },
      (err: unknown) => {
        for (const reject of batch.rejects) reject(err);
        settled();
      },
    );
  };

  const sendAtEndOfTurn = (q: KeyQueue): void => {
    if (due.length === 0) setImmediate(endOfTurn);
    due.push(q);
  };

  const endOfTurn = (): void => {
    const keys = due;
    due = [];
    for (const q of keys) if (q.waiting !== undefined && q.inFlight === 0) send(q);
  };

  return (key) =>
    new Promise<Verdict>((resolve, reject) => {
      let q = queues.get(key);
      if (q === undefined) queues.set(key, (q = new KeyQueue(key)));
      let batch = q.waiting;
      if (batch === undefined) {
        q.waiting = batch = new Batch();
        // A key with a command in flight sends its next batch when that one is answered.
        if (q.inFlight === 0) sendAtEndOfTurn(q);
      }
      batch.resolves.push(resolve);
      batch.rejects.push(reject);
      if (batch.resolves.length >= MAX_BATCH) send(q);
    });
}
