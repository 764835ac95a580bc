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
 *   (`v8.setFlagsFromString`), whatever way node was launched, and lowers it while the config
 *   loads (holdHeapTight: at start, and on reload until the replaced generation retires).
 * - `--max-semi-space-size` (MB): only read when the heap is set up, so it has to be a node
 *   flag: `npm start` and the Docker image pass STARTUP_FLAGS (a test checks they agree). The
 *   bin keeps a plain `#!/usr/bin/env node` (`env -S` is not everywhere, BusyBox has none), so
 *   `npx gatehouse start` gets it from NODE_OPTIONS only.
 *
 * Either is left alone when the user passes it (command line or NODE_OPTIONS);
 * `--heap-growing-percent=0` restores V8's own growth.
 */
import v8 from 'node:v8';

/**
 * Node flags that only count at process start. 4 MB semi-spaces (V8: 16): with the demo config,
 * RSS after 30 s of load 118-119 MB against 127 with 8 (`npm run bench -- --memory`), for 0-3%
 * more CPU per request (plain route 50.8 vs 49.3 µs, full chain the same within noise).
 */
export const STARTUP_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

export const HEAP_GROWING_PERCENT = 50;

/**
 * The growth while the config loads (at start, and on reload until the replaced generation is
 * retired). A reload builds the next generation (config, route table, handlers) beside the one
 * serving, and parsing leaves garbage behind; with the usual growth the heap grew far past both.
 * `npm run bench -- --scale` (10,000 routes, reloads under load): peak RSS 398 -> 306 MB, RSS
 * after start 236 -> 219-227 MB, for more full GCs while loading (startup 3.1 -> 3.6-4.1 s,
 * reloads 1.5-1.9 -> 1.8-2.9 s). V8 keeps some freed pages, so RSS stays near its peak after.
 */
export const RELOAD_GROWING_PERCENT = 10;
/** The longest a reload keeps the heap tight (a generation a long request keeps alive retires late). */
export const RELOAD_TIGHT_MAX_MS = 30_000;

/** The growth flag applyHeapSettings set; undefined when the user chose one (or it never ran). */
let appliedFlag: string | undefined;
/** Reloads keeping the heap tight now (one runs at a time, but one's old generation may retire after the next began). */
let tightHolds = 0;

/** The flag to set at runtime, or undefined when the user chose a value already. */
export function heapGrowthFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | undefined {
  const chosen = (a: string) => /^--heap[-_]growing[-_]percent\b/.test(a);
  if (execArgv.some(chosen) || (nodeOptions ?? '').split(/\s+/).some(chosen)) return undefined;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Applies the runtime setting to this process (the CLI calls it first thing). */
export function applyHeapSettings(): void {
  const flag = heapGrowthFlag(process.execArgv, process.env.NODE_OPTIONS);
  if (!flag) return;
  v8.setFlagsFromString(flag);
  appliedFlag = flag;
}

/**
 * Keeps the heap tight (RELOAD_GROWING_PERCENT) until the returned function is called, or
 * `maxMs` at most; the usual growth comes back when the last hold ends. Does
 * nothing unless applyHeapSettings chose the growth: a user's own setting is left alone.
 */
export function holdHeapTight(maxMs = RELOAD_TIGHT_MAX_MS): () => void {
  if (appliedFlag === undefined) return () => undefined;
  if (tightHolds++ === 0) v8.setFlagsFromString(`--heap-growing-percent=${RELOAD_GROWING_PERCENT}`);
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    clearTimeout(timer);
    if (--tightHolds === 0 && appliedFlag !== undefined) v8.setFlagsFromString(appliedFlag);
  };
  const timer = setTimeout(release, maxMs);
  timer.unref();
  return release;
}

/** Whether a hold is in force (tests). */
export function heapHeldTight(): boolean {
  return tightHolds > 0;
}
