/**
 * The benchmark harness runs end to end in smoke mode (1 s, 1 round, direct + undici reference +
 * Gatehouse plain, and the layer-4 TCP rows): it exits 0, prints the table and writes the JSON with numeric figures.
 * Nothing here asserts a timing or throughput value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ROWS = ['direct', 'undici ref', 'gatehouse plain'];

interface Summary {
  median: number;
  min: number;
  max: number;
}
interface RowJson {
  name: string;
  requests: number;
  failed: number;
  rps: Summary;
  p50ms: Summary;
  p99ms: Summary;
  rssMb: number;
  cpuUsPerRequest: Summary;
  vsDirect: number | null;
  vsUndici: number | null;
}

test('npm run bench -- --smoke prints the table and writes the JSON rows', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-smoke-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const jsonFile = path.join(dir, 'result.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--json', jsonFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), 100_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `bench exited ${code}:\n${stderr}`);

  const header = stdout.split('\n').find((l) => l.startsWith('row '));
  assert.ok(header, `no table header in:\n${stdout}`);
  for (const col of ['req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'CPU µs/req', '×direct', '×nginx', '×undici']) assert.ok(header.includes(col), `column ${col} missing: ${header}`);
  for (const name of ROWS) assert.ok(stdout.split('\n').some((l) => l.startsWith(`${name} `)), `row ${name} missing:\n${stdout}`);

  const result = JSON.parse(await readFile(jsonFile, 'utf8')) as { settings: { smoke: boolean }; rows: RowJson[] };
  assert.equal(result.settings.smoke, true);
  assert.deepEqual(result.rows.map((r) => r.name), ROWS);
  for (const r of result.rows) {
    assert.ok(r.requests > 0, `${r.name}: no requests`);
    for (const v of [r.rps.median, r.rps.min, r.rps.max, r.p50ms.median, r.p99ms.median, r.rssMb, r.cpuUsPerRequest.median]) {
      assert.equal(typeof v, 'number', `${r.name}: ${JSON.stringify(r)}`);
      assert.ok(Number.isFinite(v), `${r.name}: ${JSON.stringify(r)}`);
    }
    assert.equal(typeof r.vsDirect, 'number');
    assert.equal(typeof r.vsUndici, 'number');
  }

  // The layer-4 rows: MB/s echoed over TCP, direct and through a streams: route.
  assert.match(stdout, /MB\/s echoed/);
  const { tcp } = JSON.parse(await readFile(jsonFile, 'utf8')) as { tcp: { name: string; mbPerSecond: { median: number }; vsDirect: number | null }[] };
  assert.deepEqual(tcp.map((r) => r.name), ['tcp direct', 'gatehouse tcp stream']);
  for (const r of tcp) {
    assert.ok(Number.isFinite(r.mbPerSecond.median) && r.mbPerSecond.median > 0, JSON.stringify(r));
    assert.equal(typeof r.vsDirect, 'number');
  }
});

