/** The issue's targets, each checked against the figures of the same run (null: not measured). */
import { ROW } from './candidates.js';
import type { RowResult } from './throughput.js';
import type { LatencyResult } from './latency.js';
import type { ScaleResult } from './scale.js';
import type { MemoryResult } from './memory.js';
import { round } from './stats.js';

export interface TargetCheck {
  target: string;
  value: number | null;
  met: boolean | null;
  /** The same figure for the peers in the same run, where it says how far the machine allows (the p99 overhead). */
  peers?: string;
}

/** "nginx +5.38 ms, undici ref +7.53 ms": the peers' p99 overhead over direct in the same latency run. */
export function peerOverheads(latency: LatencyResult | undefined): string | undefined {
  const seen = (latency?.rows ?? []).filter((r) => (r.name === ROW.nginx || r.name === ROW.undici) && r.overP99ms !== null);
  return seen.length ? seen.map((r) => `${r.name} +${r.overP99ms} ms`).join(', ') : undefined;
}

export function checkTargets(rows: readonly RowResult[] | undefined, latency: LatencyResult | undefined, scale: ScaleResult | undefined, memory?: MemoryResult): TargetCheck[] {
  const rps = (n: string) => rows?.find((r) => r.name === n)?.rps.median;
  const rel = (a: string, b: string) => {
    const x = rps(a);
    const y = rps(b);
    return x !== undefined && y !== undefined && y > 0 ? round(x / y) : null;
  };
  const atLeast = (target: string, value: number | null, min: number): TargetCheck => ({ target, value, met: value === null ? null : value >= min });
  const atMost = (target: string, value: number | null | undefined, max: number): TargetCheck => ({ target, value: value ?? null, met: value === null || value === undefined ? null : value <= max });
  const overhead = latency?.rows.find((r) => r.name === ROW.plain)?.overP99ms;
  return [
    atLeast('plain ≥ 0.85× undici ref', rel(ROW.plain, ROW.undici), 0.85),
    atLeast('plain ≥ 1.5× fast-gateway', rel(ROW.plain, ROW.fastGateway), 1.5),
    atLeast('full chain ≥ 0.6× plain', rel(ROW.full, ROW.plain), 0.6),
    atLeast('aggregate x3 ≥ 0.3× plain', rel(ROW.aggregate, ROW.plain), 0.3),
    atLeast('REST->gRPC ≥ 0.5× plain', rel(ROW.grpc, ROW.plain), 0.5),
    { ...atMost('p99 overhead over direct ≤ 1 ms (fixed rate, ms)', overhead, 1), peers: peerOverheads(latency) },
    atMost('10k routes load + validate ≤ 3 s (ms)', scale?.loadValidateMs, 3000),
    atMost('10k routes gateway RSS ≤ 250 MB', scale?.gatewayRssMb, 250),
    atMost('failed requests across a 10k-route reload = 0', scale?.reload.failed, 0),
    // The issue's figure is for a 30 s run; a shorter --duration is not that measurement.
    atMost('demo config RSS ≤ 120 MB after 30 s', memory && memory.seconds >= 30 ? memory.afterRun.rssMb : undefined, 120),
  ];
}

export function targetLines(checks: readonly TargetCheck[]): string {
  return checks
    .map((c) => `${c.met === null ? 'n/a   ' : c.met ? 'MET   ' : 'MISSED'}  ${c.target}: ${c.value ?? 'not measured'}${c.peers ? ` (same run: ${c.peers})` : ''}`)
    .join('\n');
}
