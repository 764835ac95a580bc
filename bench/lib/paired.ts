/**
 * Paired mode (`--paired "A,B"`): two rows driven in short runs that alternate (A B, B A, A B,
 * ...), each pair's ratio B/A taken from two runs seconds apart, then the median of the pairs.
 * On a machine whose speed drifts over minutes (shared cores, steal), a table's ratio mixes the
 * drift in, while a pair's two runs see the same machine; the pairs' spread shows how noisy it
 * was. With `--against DIR`, B is the same row served by the gateway build in DIR (an A/B of
 * two builds: DIR holds another `dist/`).
 */
import { drive } from './load.js';
import { cpuMicros } from './procs.js';
import { round, summarize, table, type Summary } from './stats.js';
import type { Row } from './candidates.js';

export interface PairRun {
  readonly rps: number;
  readonly cpuUsPerRequest: number;
}

export interface Pair {
  readonly a: PairRun;
  readonly b: PairRun;
}

export interface PairedResult {
  readonly a: string;
  readonly b: string;
  readonly seconds: number;
  readonly pairs: readonly Pair[];
  /** B's req/s over A's, per pair: median and range. */
  readonly rpsRatio: Summary;
  /** B's CPU µs per request over A's, per pair. */
  readonly cpuRatio: Summary;
}

/** The ratios of each pair, summarised (pure: the test checks it). */
export function summarizePairs(a: string, b: string, seconds: number, pairs: readonly Pair[]): PairedResult {
  const r = (x: number) => round(x, 3);
  const rps = pairs.map((p) => p.b.rps / p.a.rps);
  const cpu = pairs.map((p) => p.b.cpuUsPerRequest / p.a.cpuUsPerRequest);
  const s = (xs: number[]) => {
    const v = summarize(xs);
    return { median: r(v.median), min: r(v.min), max: r(v.max) };
  };
  return { a, b, seconds, pairs, rpsRatio: s(rps), cpuRatio: s(cpu) };
}

export interface PairedOptions {
  seconds: number;
  pairs: number;
  connections: number;
  log: (line: string) => void;
}

async function runOnce(row: Row, o: PairedOptions): Promise<PairRun> {
  const cpu0 = cpuMicros(row.pid);
  const load = await drive({ url: row.url, headers: row.headers, connections: o.connections, seconds: o.seconds });
  const cpuUs = cpuMicros(row.pid) - cpu0;
  return { rps: load.rps, cpuUsPerRequest: load.requests > 0 ? cpuUs / load.requests : NaN };
}

export async function measurePaired(a: Row, b: Row, bName: string, o: PairedOptions): Promise<PairedResult> {
  // Warm-up: both, once, not counted.
  for (const row of [a, b]) await drive({ url: row.url, headers: row.headers, connections: o.connections, seconds: Math.min(2, o.seconds) });
  const pairs: Pair[] = [];
  for (let i = 0; i < o.pairs; i++) {
    // Which goes first alternates, so neither side always runs on the later (warmer or slower) stretch.
    let ra: PairRun;
    let rb: PairRun;
    if (i % 2 === 0) {
      ra = await runOnce(a, o);
      rb = await runOnce(b, o);
    } else {
      rb = await runOnce(b, o);
      ra = await runOnce(a, o);
    }
    pairs.push({ a: ra, b: rb });
    o.log(`pair ${i + 1}/${o.pairs}  A ${Math.round(ra.rps)} req/s ${ra.cpuUsPerRequest.toFixed(1)} µs/req  B ${Math.round(rb.rps)} req/s ${rb.cpuUsPerRequest.toFixed(1)} µs/req  B/A req/s ${(rb.rps / ra.rps).toFixed(3)}`);
  }
  return summarizePairs(a.name, bName, o.seconds, pairs);
}

export interface TargetPairs {
  readonly target: string;
  readonly result: PairedResult;
}

/**
 * After the table (--target-pairs): each ratio target's two rows again, in alternating pairs,
 * so a verdict can be read without the drift between a table's rows. B is the target's `of`
 * row, A its `to` row; targets whose rows did not run are left out.
 */
export async function pairTargets(rows: readonly Row[], targets: readonly { target: string; of: string; to: string }[], o: PairedOptions): Promise<TargetPairs[]> {
  const out: TargetPairs[] = [];
  for (const t of targets) {
    const a = rows.find((r) => r.name === t.to);
    const b = rows.find((r) => r.name === t.of);
    if (!a || !b) continue;
    o.log(`target pairs: ${t.target}`);
    out.push({ target: t.target, result: await measurePaired(a, b, b.name, o) });
  }
  return out;
}

export function pairedTable(p: PairedResult): string {
  const fmt = (s: Summary) => `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
  const medianOf = (pick: (x: Pair) => number) => summarize(p.pairs.map(pick)).median;
  return table(
    ['', 'A', 'B', 'B/A median (min–max of pairs)'],
    [
      ['row', p.a, p.b, ''],
      ['req/s (median)', String(Math.round(medianOf((x) => x.a.rps))), String(Math.round(medianOf((x) => x.b.rps))), fmt(p.rpsRatio)],
      ['CPU µs/req (median)', medianOf((x) => x.a.cpuUsPerRequest).toFixed(1), medianOf((x) => x.b.cpuUsPerRequest).toFixed(1), fmt(p.cpuRatio)],
    ],
  );
}
