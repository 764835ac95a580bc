/**
 * Fixed-rate latency mode: each row gets the same constant request rate (default 25% of the
 * plain route's closed-loop peak) from bench/lib/fixed-rate.ts, pinned to the load core;
 * reports p50/p99/p99.9 and their overhead over the direct row.
 */
import path from 'node:path';
import { drive } from './load.js';
import { CORE, start, waitForLine } from './procs.js';
import { ROOT } from './gateway-process.js';
import { ROW, type Row } from './candidates.js';
import { median, round, table } from './stats.js';

export interface LatencyRow {
  name: string;
  requests: number;
  failed: number;
  p50ms: number;
  p99ms: number;
  p999ms: number;
  overP50ms: number | null;
  overP99ms: number | null;
  overP999ms: number | null;
}

export interface LatencyResult {
  rate: number;
  peakPlainRps: number | null;
  seconds: number;
  rounds: number;
  rows: LatencyRow[];
}

interface FixedRateOut {
  requests: number;
  failed: number;
  p50ms: number;
  p99ms: number;
  p999ms: number;
  maxTickGapMs: number;
}

async function fixedRate(row: Row, rate: number, seconds: number, connections: number): Promise<FixedRateOut> {
  const child = start(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/lib/fixed-rate.ts'), row.url, String(rate), String(seconds), String(connections), JSON.stringify(row.headers)], {
    core: CORE.load,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return waitForLine<FixedRateOut>(child, (l) => (l.startsWith('{') ? (JSON.parse(l) as FixedRateOut) : undefined), 'fixed-rate load', seconds * 1000 + 30_000);
}

export interface LatencyOptions {
  seconds: number;
  rounds: number;
  connections: number;
  rate: number | undefined;
  log: (line: string) => void;
}

export async function measureLatency(rows: readonly Row[], o: LatencyOptions): Promise<LatencyResult> {
  let peak: number | null = null;
  let rate = o.rate;
  if (rate === undefined) {
    const plain = rows.find((r) => r.name === ROW.plain);
    if (!plain) throw new Error('--latency needs the gatehouse plain row (or --rate N)');
    await drive({ url: plain.url, headers: plain.headers, connections: o.connections, seconds: 2 }); // warm-up
    peak = (await drive({ url: plain.url, headers: plain.headers, connections: o.connections, seconds: Math.min(5, o.seconds) })).rps;
    rate = Math.max(100, Math.round(peak * 0.25));
    o.log(`plain route peak ${Math.round(peak)} req/s; fixed rate ${rate} req/s`);
  }
  const samples = new Map<string, FixedRateOut[]>(rows.map((r) => [r.name, []]));
  for (let r = 0; r < o.rounds; r++) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[(i + r) % rows.length]!;
      if (r === 0) await fixedRate(row, rate, Math.min(2, o.seconds), o.connections); // warm-up
      const s = await fixedRate(row, rate, o.seconds, o.connections);
      samples.get(row.name)!.push(s);
      o.log(`round ${r + 1}/${o.rounds}  ${row.name.padEnd(28)} p50 ${s.p50ms} ms  p99 ${s.p99ms} ms  p99.9 ${s.p999ms} ms  failed ${s.failed}  generator's longest gap ${s.maxTickGapMs} ms`);
    }
  }
  const base = samples.get(ROW.direct);
  const med = (ss: FixedRateOut[] | undefined, k: 'p50ms' | 'p99ms' | 'p999ms') => (ss ? median(ss.map((s) => s[k])) : NaN);
  const over = (ss: FixedRateOut[], k: 'p50ms' | 'p99ms' | 'p999ms') => (base ? round(med(ss, k) - med(base, k), 3) : null);
  return {
    rate,
    peakPlainRps: peak === null ? null : Math.round(peak),
    seconds: o.seconds,
    rounds: o.rounds,
    rows: rows.map((row) => {
      const ss = samples.get(row.name)!;
      return {
        name: row.name,
        requests: ss.reduce((a, s) => a + s.requests, 0),
        failed: ss.reduce((a, s) => a + s.failed, 0),
        p50ms: round(med(ss, 'p50ms'), 3),
        p99ms: round(med(ss, 'p99ms'), 3),
        p999ms: round(med(ss, 'p999ms'), 3),
        overP50ms: over(ss, 'p50ms'),
        overP99ms: over(ss, 'p99ms'),
        overP999ms: over(ss, 'p999ms'),
      };
    }),
  };
}

export function latencyTable(res: LatencyResult): string {
  const f = (n: number | null) => (n === null || !Number.isFinite(n) ? '-' : String(n));
  return table(
    ['row', 'p50 ms', 'p99 ms', 'p99.9 ms', '+p50 ms', '+p99 ms', '+p99.9 ms', 'failed'],
    res.rows.map((r) => [r.name, f(r.p50ms), f(r.p99ms), f(r.p999ms), f(r.overP50ms), f(r.overP99ms), f(r.overP999ms), String(r.failed)]),
  );
}
