/**
 * Open-loop constant-rate load with microsecond latencies (autocannon reports whole
 * milliseconds; wrk2 is not packaged). Requests are sent on a fixed schedule (checked every
 * millisecond, so the loop does not spin on the core it shares with the upstream) over a pool
 * of keep-alive connections, whether or not earlier ones have answered; each latency counts
 * from the moment the request was handed to undici. The first WARMUP_S seconds run at the same
 * rate but are not counted: this process's own JIT and connection setup would otherwise land
 * in every row's tail, and so would a proxy's first seconds of a run, which cost it more CPU
 * per request than the rest (bench/README.md). Run as its own (pinned) process:
 *   node --import tsx bench/lib/fixed-rate.ts URL RATE SECONDS CONNECTIONS [HEADERS_JSON]
 * prints {"requests","failed","p50ms","p99ms","p999ms","rps","maxTickGapMs"}.
 */
import { Pool } from 'undici';

const [url, rateArg, secondsArg, connArg, headersArg] = process.argv.slice(2);
const u = new URL(url!);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const pool = new Pool(u.origin, { connections: Number(connArg ?? 16), pipelining: 1 });
const headers = headersArg ? (JSON.parse(headersArg) as Record<string, string>) : {};
const path = u.pathname + u.search;
const WARMUP_S = 3;
const warm = Math.round(rate * WARMUP_S);
const total = warm + Math.max(1, Math.round(rate * seconds));
const latencies = new Float64Array(total);
let done = 0;
let failed = 0;
/** The longest this process went between two of its 1 ms ticks after the warm-up, its own work included: a stall of the machine shows here. */
let maxTickGapMs = 0;

const t0 = process.hrtime.bigint();
const intervalNs = 1e9 / rate;
await new Promise<void>((resolve) => {
  let sent = 0;
  const fire = (i: number) => {
    const sentAt = process.hrtime.bigint();
    pool.request({ method: 'GET', path, headers }).then(
      async (res) => {
        await res.body.dump();
        if (res.statusCode >= 400 && i >= warm) failed++;
        latencies[i] = Number(process.hrtime.bigint() - sentAt) / 1e6;
      },
      () => {
        if (i >= warm) failed++;
        latencies[i] = Number(process.hrtime.bigint() - sentAt) / 1e6;
      },
    ).finally(() => {
      if (++done === total) resolve();
    });
  };
  let lastTick = 0;
  const tick = () => {
    const now = Number(process.hrtime.bigint() - t0);
    if (now > WARMUP_S * 1e9) maxTickGapMs = Math.max(maxTickGapMs, (now - lastTick) / 1e6);
    lastTick = now;
    const due = Math.min(total, Math.floor(now / intervalNs) + 1);
    while (sent < due) fire(sent++);
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
  setTimeout(() => resolve(), (seconds + WARMUP_S) * 1000 + 10_000).unref();
});
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9 - WARMUP_S;
await pool.close().catch(() => undefined);
const sorted = Array.from(latencies.subarray(warm, total)).sort((a, b) => a - b);
const pct = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 1000) / 1000;
process.stdout.write(
  `${JSON.stringify({ requests: done - warm, failed, rps: Math.round(done / elapsed), p50ms: pct(0.5), p99ms: pct(0.99), p999ms: pct(0.999), maxTickGapMs: Math.round(maxTickGapMs * 10) / 10 })}\n`,
);
process.exit(0);
