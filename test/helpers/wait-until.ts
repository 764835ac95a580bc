/** Waits for a condition that an event will make true; fails the test with `what` if it never does. */
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitUntil(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}
