/**
 * How the gateway process's V8 heap grows: chosen by the CLI for the process it runs (library
 * users' own processes keep their settings).
 *
 * Under load a proxy allocates many short-lived objects; those of the requests still in flight
 * at a scavenge are promoted to the old space and die there soon after. With V8's defaults the
 * old space grows to about four times what the last full GC left before the next one runs, and
 * the young generation takes 2 x 16 MB: with the demo config, 30 MB live became ~200 MB RSS
 * after 30 s of load. Two settings keep the heap near what is live:
 *
 * - `--heap-growing-percent`: the next full GC runs once the old space has grown by this share
 *   of what the last one left. V8 reads it at every GC, so the CLI sets it when it starts
 *   (`v8.setFlagsFromString`), whatever way node was launched.
 * - `--max-semi-space-size` (MB): only read when the heap is set up, so it has to be a node
 *   flag: `npm start` and the Docker image pass STARTUP_FLAGS (a test checks they agree). The
 *   bin keeps a plain `#!/usr/bin/env node` (`env -S` is not everywhere, BusyBox has none), so
 *   `npx gatehouse start` gets it from NODE_OPTIONS only.
 *
 * Either is left alone when the user passes it (command line or NODE_OPTIONS);
 * `--heap-growing-percent=0` restores V8's own growth.
 */
import v8 from 'node:v8';

/** Node flags that only count at process start. */
export const STARTUP_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

export const HEAP_GROWING_PERCENT = 50;

/** The flag to set at runtime, or undefined when the user chose a value already. */
export function heapGrowthFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  const chosen = (a: string) => /^--heap[-_]growing[-_]percent\b/.test(a);
  if (execArgv.some(chosen) || (nodeOptions ?? '').split(/\s+/).some(chosen)) return undefined;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Applies the runtime setting to this process (the CLI calls it first thing). */
export function applyHeapSettings(): void {
  const flag = heapGrowthFlag(process.execArgv, process.env.NODE_OPTIONS);
  if (flag) v8.setFlagsFromString(flag);
}
