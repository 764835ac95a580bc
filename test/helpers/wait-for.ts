/** Polls `cond` until it holds; fails with `what` after `limitMs` (a bound, never a measured duration). */
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, limitMs = 5_000, everyMs = 10): Promise<void> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
