/**
 * The throughput table: every row driven by the same closed-loop load, rows interleaved over
 * the rounds (each round starts one row later), medians with min–max, and per row the
 * process's RSS and CPU time per request.
 */
import { drive } from './load.js';
import { cpuMicros, rssMb } from './procs.js';
import { ratio, round, summarize, table, type Summary } from './stats.js';
import { ROW, type Row } from './candidates.js';

export interface RowResult {
  name: string;
  rounds: number;
  requests: number;
  failed: number;
  rps: Summary;
  p50ms: Summary;
  p99ms: Summary;
  rssMb: number;
  cpuUsPerRequest: Summary;
  vsDirect: number | null;
  vsNginx: number | null;
  vsUndici: number | null;
}

interface Sample {
  requests: number;
  failed: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  rssMb: number;
  cpuUs: number;
}

export interface ThroughputOptions {
  seconds: number;
  rounds: number;
  connections: number;
  warmupSeconds: number;
  log: (line: string) => void;
}

export async function measureThroughput(rows: readonly Row[], o: ThroughputOptions): Promise<RowResult[]> {
  const samples = new Map<string, Sample[]>(rows.map((r) => [r.name, []]));
  for (let r = 0; r < o.rounds; r++) {
    const order = rows.map((_, i) => rows[(i + r) % rows.length]!);
    for (const row of order) {
      if (r === 0 && o.warmupSeconds > 0) await drive({ url: row.url, headers: row.headers, connections: o.connections, seconds: o.warmupSeconds });
      const cpu0 = cpuMicros(row.pid);
      const load = await drive({ url: row.url, headers: row.headers, connections: o.connections, seconds: o.seconds });
      const cpuUs = cpuMicros(row.pid) - cpu0;
      const s: Sample = { ...load, rssMb: rssMb(row.pid), cpuUs: load.requests > 0 ? cpuUs / load.requests : NaN };
      samples.get(row.name)!.push(s);
      o.log(`round ${r + 1}/${o.rounds}  ${row.name.padEnd(28)} ${Math.round(s.rps)} req/s  p99 ${s.p99ms} ms  failed ${s.failed}`);
    }
  }
  const results: RowResult[] = rows.map((row) => {
    const ss = samples.get(row.name)!;
    return {
      name: row.name,
      rounds: ss.length,
      requests: ss.reduce((a, s) => a + s.requests, 0),
      failed: ss.reduce((a, s) => a + s.failed, 0),
      rps: summarize(ss.map((s) => s.rps)),
      p50ms: summarize(ss.map((s) => s.p50ms)),
      p99ms: summarize(ss.map((s) => s.p99ms)),
      rssMb: ss.at(-1)!.rssMb,
      cpuUsPerRequest: summarize(ss.map((s) => s.cpuUs)),
      vsDirect: null,
      vsNginx: null,
      vsUndici: null,
    };
  });
  const rpsOf = (name: string) => results.find((x) => x.name === name)?.rps.median;
  for (const x of results) {
    x.vsDirect = ratio(x.rps.median, rpsOf(ROW.direct));
    x.vsNginx = ratio(x.rps.median, rpsOf(ROW.nginx));
    x.vsUndici = ratio(x.rps.median, rpsOf(ROW.undici));
  }
  return results;
}

const fmt = (n: number | null, d = 2) => (n === null || !Number.isFinite(n) ? '-' : String(round(n, d)));

export function throughputTable(results: readonly RowResult[]): string {
  return table(
    ['row', 'req/s', 'min–max', 'p50 ms', 'p99 ms', 'RSS MB', 'CPU µs/req', '×direct', '×nginx', '×undici', 'failed'],
    results.map((x) => [
      x.name,
      fmt(x.rps.median, 0),
      `${fmt(x.rps.min, 0)}–${fmt(x.rps.max, 0)}`,
      fmt(x.p50ms.median),
      fmt(x.p99ms.median),
      fmt(x.rssMb, 1),
      fmt(x.cpuUsPerRequest.median, 0),
      fmt(x.vsDirect),
      fmt(x.vsNginx),
      fmt(x.vsUndici),
      String(x.failed),
    ]),
  );
}
