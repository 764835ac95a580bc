/**
 * The load generator: wrk when installed, else autocannon (npm devDependency), pinned to the
 * load core. Both report requests, req/s, p50/p99 and the failures (socket errors, non-2xx).
 * The fixed-rate mode always uses autocannon (`--overallRate`; wrk2 is not packaged).
 */
import path from 'node:path';
import { CORE, hasCommand, start } from './procs.js';
import { ROOT } from './gateway-process.js';

export interface LoadResult {
  requests: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  p999ms?: number;
  /** Socket errors, timeouts and non-2xx/3xx answers. */
  failed: number;
  non2xx: number;
  /** Connect/read/write errors. */
  socketErrors: number;
  /** Requests without an answer within the load tool's timeout (wrk: 2 s, autocannon: 10 s). */
  timeouts: number;
}

export interface LoadSpec {
  url: string;
  headers?: Readonly<Record<string, string>>;
  connections: number;
  seconds: number;
  /** Fixed total rate (req/s); autocannon only. */
  rate?: number;
}

export const LOAD_TOOL: 'wrk' | 'autocannon' = process.env.BENCH_LOAD_TOOL === 'autocannon' || !hasCommand('wrk') ? 'autocannon' : 'wrk';
const AUTOCANNON = path.join(ROOT, 'node_modules/.bin/autocannon');

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = start(cmd, args, { core: CORE.load, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited ${code}: ${err.slice(-1000)}`));
    });
  });
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function wrkDuration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
}

export function parseWrk(out: string): LoadResult {
  const pct = (p: string) => wrkDuration(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1, 4).reduce((a, b) => a + Number(b), 0) : 0;
  const timeouts = sock ? Number(sock[4]) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50ms: pct('50'),
    p99ms: pct('99'),
    failed: socketErrors + timeouts + non2xx,
    non2xx,
    socketErrors,
    timeouts,
  };
}

interface AutocannonJson {
  requests: { total: number };
  latency: { p50: number; p99: number; p99_9?: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export async function drive(spec: LoadSpec): Promise<LoadResult> {
  const timeoutMs = spec.seconds * 1000 + 15_000;
  const headers = Object.entries(spec.headers ?? {});
  if (LOAD_TOOL === 'wrk' && spec.rate === undefined) {
    const args = ['-t1', `-c${spec.connections}`, `-d${Math.max(1, Math.round(spec.seconds))}s`, '--latency', ...headers.flatMap(([k, v]) => ['-H', `${k}: ${v}`]), spec.url];
    return parseWrk(await run('wrk', args, timeoutMs));
  }
  const args = ['-j', '-c', String(spec.connections), '-d', String(Math.max(1, Math.round(spec.seconds))), ...headers.flatMap(([k, v]) => ['-H', `${k}=${v}`])];
  if (spec.rate !== undefined) args.push('--overallRate', String(Math.max(1, Math.round(spec.rate))));
  args.push(spec.url);
  const r = JSON.parse(await run(AUTOCANNON, args, timeoutMs)) as AutocannonJson;
  return {
    requests: r.requests.total,
    rps: r.requests.total / r.duration,
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    p999ms: r.latency.p99_9,
    failed: r.non2xx + r.errors + r.timeouts,
    non2xx: r.non2xx,
    socketErrors: r.errors,
    timeouts: r.timeouts,
  };
}
