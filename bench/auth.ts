/**
 * `node --import tsx bench/auth.ts [requests] [connections]`: the auth rows on their own, until the
 * full harness (`npm run bench`) takes them from auth-scenario.ts. Loopback only, bounded count.
 * Note: each distinct token is verified once and then served from the verification cache, as a
 * real client reusing its token would be; `cacheSize: 0` in the scenario measures raw crypto.
 */
import http from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Pool } from 'undici';
import { Gateway } from '../src/server.js';
import { authScenario } from './auth-scenario.js';

const total = Number(process.argv[2] ?? 20000);
const connections = Number(process.argv[3] ?? 32);

const origin = http.createServer((_req, res) => res.end('ok'));
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
const scenario = authScenario(originUrl);
const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-'));
for (const [rel, text] of Object.entries(scenario.files)) {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), text);
}
const gw = await Gateway.start({ configFile: path.join(dir, 'gatehouse.yaml'), logger: pino({ level: 'warn' }), port: 0, host: '127.0.0.1' });
const pool = new Pool(`http://127.0.0.1:${gw.address().port}`, { connections });

async function drive(p: string, headers: Record<string, string>) {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next++ < total) {
        const t0 = process.hrtime.bigint();
        const res = await pool.request({ method: 'GET', path: p, headers });
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

const rows = [];
for (const row of scenario.rows) {
  await drive(row.path, { ...row.headers }); // warm-up pass, same size
  rows.push({ name: row.name, ...(await drive(row.path, { ...row.headers })) });
}
const plain = rows[0]!.rps;
console.log('row'.padEnd(22), 'req/s'.padStart(8), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'vs plain'.padStart(9), 'non-200'.padStart(8));
for (const r of rows) {
  console.log(r.name.padEnd(22), String(r.rps).padStart(8), r.p50.toFixed(2).padStart(8), r.p99.toFixed(2).padStart(8), (r.rps / plain).toFixed(2).padStart(9), String(r.failed).padStart(8));
}
await pool.close();
await gw.close(1000);
await new Promise<void>((r) => origin.close(() => r()));
await rm(dir, { recursive: true, force: true });
