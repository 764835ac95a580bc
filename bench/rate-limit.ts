/**
 * Benchmark rows for a rate-limited route: memory store vs Redis store (a redis-server this
 * script starts on a free port), each behind a gateway process, driven by the same load.
 * `node --import tsx bench/rate-limit.ts` prints the rows; the harness (bench/run.ts) can
 * import `rateLimitRows()` and add them to its table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export interface BenchRow {
  name: string;
  requests: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  rssMb: number;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      http.get(url, (res) => {
        res.resume();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${url} did not come up`);
}

function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

async function drive(url: string, total: number, connections: number): Promise<Omit<BenchRow, 'name' | 'rssMb'>> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  let limited = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < total) {
        next++;
        const t0 = process.hrtime.bigint();
        const res = await pool.request({ method: 'GET', path: '/api/x' });
        await res.body.dump();
        if (res.statusCode === 429) limited++;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.close();
  if (limited > 0) throw new Error(`${limited} requests were rate limited; the bench limit is too low`);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]! * 100) / 100;
  return { requests: latencies.length, rps: Math.round(latencies.length / seconds), p50ms: pct(0.5), p99ms: pct(0.99) };
}

export async function rateLimitRows(total = 20_000, connections = 32): Promise<BenchRow[]> {
  const children: ChildProcess[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-rl-'));
  const origin = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  try {
    const redisPort = await freePort();
    children.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
    const rows: BenchRow[] = [];
    for (const store of ['memory', 'redis'] as const) {
      const port = await freePort();
      const redis = store === 'redis' ? `redis: { url: "redis://127.0.0.1:${redisPort}", commandTimeout: 200ms }\n` : '';
      await writeFile(
        path.join(dir, `${store}.yaml`),
        `admin: { enabled: false }\nlogging: { level: warn, accessLog: false }\nserver: { host: 127.0.0.1, port: ${port} }\nroutes: ./routes.d\n${redis}`,
      );
      await rm(path.join(dir, 'routes.d'), { recursive: true, force: true });
      await mkdir(path.join(dir, 'routes.d'));
      await writeFile(
        path.join(dir, 'routes.d/bench.yaml'),
        `services:\n  svc: { discovery: { static: ["${originUrl}"] } }\nroutes:\n  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 100000000, window: 1h, by: route }\n`,
      );
      const gw = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli.ts'), 'start', '-c', path.join(dir, `${store}.yaml`)], { cwd: ROOT, stdio: 'ignore' });
      children.push(gw);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(`${url}/api/warm`);
      await drive(url, Math.min(2000, total), connections); // warm-up
      const measured = await drive(url, total, connections);
      rows.push({ name: `rate-limit (${store} store)`, ...measured, rssMb: rssMb(gw.pid!) });
      gw.kill('SIGKILL');
    }
    return rows;
  } finally {
    for (const c of children) c.kill('SIGKILL');
    origin.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await rateLimitRows();
  console.table(rows);
}
