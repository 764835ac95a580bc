/** Helpers for discovery tests: origins that say who they are, steady traffic through the gateway, and waiting for a condition. */
import { request } from 'undici';
import { startOrigin, type Origin } from './upstream.js';

/** An origin answering `name` as its body. */
export function namedOrigin(name: string): Promise<Origin> {
  return startOrigin((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(name);
  });
}

export interface Traffic {
  /** Who answered, in order ("" for a non-200). */
  readonly answers: string[];
  /** Statuses other than 200, with their bodies. */
  readonly failures: { status: number; body: string }[];
  /** Names that answered since index `from` of `answers`. */
  since(from: number): Set<string>;
  stop(): Promise<void>;
}

/** Sends one GET after another to `url` until stopped (at most `max` requests, one at a time). */
export function startTraffic(url: string, max = 20_000): Traffic {
  const answers: string[] = [];
  const failures: { status: number; body: string }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped && answers.length < max) {
      try {
        const res = await request(url);
        const body = await res.body.text();
        if (res.statusCode === 200) answers.push(body);
        else {
          answers.push('');
          failures.push({ status: res.statusCode, body });
        }
      } catch (err) {
        answers.push('');
        failures.push({ status: 0, body: (err as Error).message });
      }
      // A small pause keeps the loop from hogging a shared CPU.
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    answers,
    failures,
    since: (from) => new Set(answers.slice(from).filter(Boolean)),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Resolves once `check` returns true (checked every 50 ms); throws after `timeoutMs` naming `what`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once the traffic has been answered by exactly `names` for `runs` answers in a row. */
export function servedBy(traffic: Traffic, names: readonly string[], runs = 20): () => boolean {
  const want = new Set(names);
  return () => {
    const tail = traffic.answers.slice(-runs);
    if (tail.length < runs) return false;
    const seen = new Set(tail);
    return seen.size === want.size && [...want].every((n) => seen.has(n));
  };
}

/** Teardown in reverse order of setup (t.after runs its hooks first-in first-out). */
export function teardown(t: { after(fn: () => Promise<void>): void }): (fn: () => unknown) => void {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of stack.reverse()) await fn();
  });
  return (fn) => void stack.push(fn);
}
