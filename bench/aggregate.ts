/**
 * `node --import tsx bench/aggregate.ts [requests] [connections]`: the aggregate rows on their
 * own, until the full harness (`npm run bench`) takes them from aggregate-scenario.ts.
 * Loopback only, a bounded number of requests per row.
 */
import http from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Pool } from 'undici';
import { Gateway } from '../src/server.js';
import { aggregateScenario } from './aggregate-scenario.js';

const total = Math.min(Number(process.argv[2] ?? 10000), 200_000);
const connections = Number(process.argv[3] ?? 32);

const body = JSON.stringify({ id: 7, accountId: 'acc-7', name: 'Ann', items: [{ id: 1 }, { id: 2 }] });
const servers = await Promise.all(
  [0, 1, 2].map(async () => {
    const s = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(body);
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return s;
  }),
);
const urls = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`) as [string, string, string];
const scenario = aggregateScenario(urls);
const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-'));
for (const [rel, text] of Object.entries(scenario.files)) {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), text);
}
const gw = await Gateway.start({ configFile: path.join(dir, 'gatehouse.yaml'), logger: pino({ level: 'warn' }), port: 0, host: '127.0.0.1' });
const pool = new Pool(`http://127.0.0.1:${gw.address().port}`, { connections });

async function drive(p: string): Promise<{ rps: number; p50: number; p99: number; failed: number }> {
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent++ < total) {
        const t0 = process.hrtime.bigint();
        const res = await pool.request({ method: 'GET', path: p });
        await res.body.dump();
        if (res.statusCode !== 200) failed++;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))]!;
  return { rps: Math.round(latencies.length / seconds), p50: q(0.5), p99: q(0.99), failed };
}

const rows: { name: string; rps: number; p50: number; p99: number; failed: number }[] = [];
for (const row of scenario.rows) {
  await drive(row.path); // warm-up
  rows.push({ name: row.name, ...(await drive(row.path)) });
}
const base = rows[0]!.rps;
console.log('row'.padEnd(28), 'req/s'.padStart(8), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'vs proxy'.padStart(9), 'non-200'.padStart(8));
for (const r of rows) {
  console.log(r.name.padEnd(28), String(r.rps).padStart(8), r.p50.toFixed(2).padStart(8), r.p99.toFixed(2).padStart(8), (r.rps / base).toFixed(2).padStart(9), String(r.failed).padStart(8));
}
await pool.close();
await gw.close(1000);
await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
await rm(dir, { recursive: true, force: true });
