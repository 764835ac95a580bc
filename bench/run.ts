/**
 * `npm run bench`: Gatehouse side by side with what users would otherwise pick, on loopback.
 * Starts the upstreams and candidates as separate processes (pinned: load on core 0, proxy on
 * core 1, when taskset and 2 cores exist), drives each with the same load (wrk, else
 * autocannon), interleaves the rows over rounds, prints one table and writes JSON to
 * bench/results/. Modes: default throughput; --latency (fixed rate); --scale (10,000 routes);
 * --memory (the demo config's RSS over a 30 s run); --smoke (1 s, 1 round, a few rows; the test suite runs it). See bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PAIR_SECONDS, parseBenchArgs } from './lib/args.js';
import { ROW, SMOKE_ROWS, startCandidates } from './lib/candidates.js';
import { CLI, ROOT } from './lib/gateway-process.js';
import { latencyTable, measureLatency, type LatencyResult } from './lib/latency.js';
import { LOAD_TOOL } from './lib/load.js';
import { HAS_TASKSET, killAll, stopAll } from './lib/procs.js';
import { measureMemory, memoryTable, type MemoryResult } from './lib/memory.js';
import { measureScale, scaleTable, type ScaleResult } from './lib/scale.js';
import { checkTargets, RATIO_TARGETS, targetLines } from './lib/targets.js';
import { measureThroughput, throughputTable, type RowResult } from './lib/throughput.js';
import { measurePaired, pairedTable, pairTargets, type PairedResult, type TargetPairs } from './lib/paired.js';
import { measureTcp, tcpTable, type TcpRowResult } from './lib/tcp.js';
import { measureWebSocket, websocketTable, WS_ROWS, type WebSocketResult } from './lib/websocket.js';

const args = parseBenchArgs(process.argv.slice(2));
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Gateways run from dist/: build when it is missing or older than src/. */
function ensureBuilt(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return;
  log('building dist/ (npm run build)');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if (r.status !== 0) throw new Error('npm run build failed');
}

const ALL_ROWS = Object.values(ROW) as string[];
const WS_ROW_NAMES = Object.values(WS_ROWS) as string[];

/** --paired "A,B" [--against DIR]: the two rows alternating in short runs (bench/lib/paired.ts). */
async function pairedRun(a: string, b: string, against: string | undefined): Promise<void> {
  for (const n of [a, b]) if (!ALL_ROWS.includes(n)) throw new Error(`unknown row ${JSON.stringify(n)}; rows: ${ALL_ROWS.join(', ')}`);
  const cli = against === undefined ? undefined : path.resolve(against, 'cli.js');
  if (cli !== undefined && !existsSync(cli)) throw new Error(`--against ${against}: no cli.js there (give a built dist/ directory)`);
  log(`paired: ${args.rounds} pairs of ${args.seconds}s runs, ${args.connections} connections; B = ${b}${cli ? ` from ${cli}` : ''}`);
  const candsA = await startCandidates(cli ? new Set([a]) : new Set([a, b]));
  const candsB = cli ? await startCandidates(new Set([b]), { cli }) : candsA;
  const dirs = cli ? [candsA.dir, candsB.dir] : [candsA.dir];
  let result: PairedResult;
  try {
    const rowA = candsA.rows.find((r) => r.name === a);
    const rowB = candsB.rows.find((r) => r.name === b);
    const missing = [...candsA.skipped, ...(cli ? candsB.skipped : [])].map((s) => `${s.name}: ${s.reason}`);
    if (!rowA || !rowB) throw new Error(`a paired row did not start${missing.length ? ` (${missing.join('; ')})` : ''}`);
    result = await measurePaired(rowA, rowB, cli ? `${b} (${against})` : b, { seconds: args.seconds, pairs: args.rounds, connections: args.connections, log });
  } finally {
    await stopAll();
    for (const d of dirs) await rm(d, { recursive: true, force: true }).catch(() => undefined);
  }
  process.stdout.write(`Paired runs (${LOAD_TOOL}, ${args.connections} connections, ${result.pairs.length} pairs of ${args.seconds}s, order alternating):\n\n${pairedTable(result)}\n`);
  const file = args.json ?? path.join(ROOT, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-paired.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version }, paired: result }, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function main(): Promise<void> {
  ensureBuilt();
  if (args.paired) return pairedRun(args.paired[0], args.paired[1], args.against);
  const throughputMode = !args.latency && !args.scale && !args.memory;
  const wanted = new Set(args.only ?? (args.smoke ? SMOKE_ROWS : throughputMode ? ALL_ROWS : [ROW.direct, ROW.nginx, ROW.undici, ROW.plain, ROW.full]));
  for (const n of wanted) if (!ALL_ROWS.includes(n) && !WS_ROW_NAMES.includes(n)) throw new Error(`unknown row ${JSON.stringify(n)}; rows: ${[...ALL_ROWS, ...WS_ROW_NAMES].join(', ')}`);
  // The WebSocket echo rows (bench/lib/websocket.ts) run with the throughput rows, or when --only names one.
  const websocketMode = throughputMode && (args.only === undefined || args.only.some((n) => WS_ROW_NAMES.includes(n)));
  const started = new Date();
  log(`load: ${LOAD_TOOL}; pinning: ${HAS_TASKSET ? 'taskset (load+upstreams core 0, proxy core 1)' : 'none'}; ${args.seconds}s x ${args.rounds} rounds, ${args.connections} connections`);

  const cands = await startCandidates(args.latency || throughputMode ? wanted : new Set([ROW.direct]));
  for (const s of cands.skipped) log(`skipped ${s.name}: ${s.reason}`);
  let rows: RowResult[] | undefined;
  let latency: LatencyResult | undefined;
  let scale: ScaleResult | undefined;
  let memory: MemoryResult | undefined;
  let tcp: TcpRowResult[] | undefined;
  let websocket: WebSocketResult | undefined;
  let targetPairs: TargetPairs[] = [];
  const out: string[] = [];
  try {
    if (throughputMode && (cands.rows.length > 0 || !websocketMode)) {
      rows = await measureThroughput(cands.rows, { seconds: args.seconds, rounds: args.rounds, connections: args.connections, warmupSeconds: args.smoke ? 0 : Math.min(2, args.seconds), log });
      out.push(`Throughput (${LOAD_TOOL}, ${args.connections} connections, ${args.seconds}s x ${args.rounds} rounds, median and min–max req/s):`, throughputTable(rows));
      if (!args.only) {
        tcp = await measureTcp(cands.dir, { seconds: args.seconds, rounds: args.rounds, connections: args.connections, log });
        out.push(`Layer-4 TCP stream (64 KiB echo, ${Math.min(args.connections, 8)} connections, ${args.seconds}s x ${args.rounds} rounds, median and min–max MB/s):`, tcpTable(tcp));
      }
    }
    if (websocketMode) {
      websocket = await measureWebSocket(cands.dir, { seconds: args.seconds, rounds: args.rounds, connections: args.connections, log });
      out.push(`WebSocket echo (${websocket.connections} connections, ${websocket.messageBytes}-byte messages, one in flight per connection, ${args.seconds}s x ${args.rounds} rounds):`, websocketTable(websocket));
    }
    if (rows && args.targetPairs > 0) {
      // Short runs, as --paired: each pair's two runs see the same stretch of the machine.
      targetPairs = await pairTargets(cands.rows, RATIO_TARGETS, { seconds: PAIR_SECONDS, pairs: args.targetPairs, connections: args.connections, log });
    }
    if (args.latency) {
      latency = await measureLatency(cands.rows, { seconds: args.seconds, rounds: args.rounds, connections: Math.min(args.connections, 16), rate: args.rate, log });
      out.push(`Fixed-rate latency (${latency.rate} req/s, ${args.seconds}s x ${args.rounds} rounds; + = over direct):`, latencyTable(latency));
    }
    if (args.scale) {
      scale = await measureScale(path.join(cands.dir, 'scale'), `http://127.0.0.1:${cands.upstreamPorts[0]}`, { seconds: args.seconds, connections: args.connections, log });
      out.push('Scale (10,000 generated routes):', scaleTable(scale));
    }
    if (args.memory) {
      memory = await measureMemory(cands.dir, { seconds: args.memorySeconds, connections: args.connections, log });
      out.push(`Memory with the demo config (${memory.connections} connections over ${memory.load.length} routes, ${memory.seconds} s):`, memoryTable(memory));
    }
  } finally {
    await stopAll();
    await rm(cands.dir, { recursive: true, force: true }).catch(() => undefined);
  }
  const targets = checkTargets(rows, latency, scale, memory, new Map(targetPairs.map((p) => [p.target, p.result.rpsRatio])));
  const measured = targets.filter((t) => t.met !== null);
  if (measured.length) out.push('Targets:', targetLines(measured));
  if (cands.skipped.length) out.push('Skipped:', ...cands.skipped.map((s) => `  ${s.name}: ${s.reason}`));
  process.stdout.write(`${out.join('\n\n')}\n`);

  const result = {
    date: started.toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() },
    settings: { tool: LOAD_TOOL, pinned: HAS_TASKSET, seconds: args.seconds, rounds: args.rounds, connections: args.connections, smoke: args.smoke },
    rows,
    latency,
    scale,
    memory,
    tcp,
    websocket,
    targets,
    targetPairs,
    skipped: cands.skipped,
  };
  const mode = args.smoke ? '-smoke' : args.latency ? '-latency' : args.scale ? '-scale' : args.memory ? '-memory' : '';
  const file = args.json ?? path.join(ROOT, 'bench/results', `${started.toISOString().replace(/[:.]/g, '-').slice(0, 19)}${mode}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), file)}`);
}

const watchdog = setTimeout(() => {
  log('watchdog: the run took too long; stopping');
  killAll();
  process.exit(3);
}, 60 * 60_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    killAll();
    process.exit(1);
  },
);
