/**
 * Memory mode (`npm run bench -- --memory`): the gateway's RSS with the demo config. The
 * example services run in their own process (bench/lib/demo-services.ts, load core), the
 * gateway as users start it (`node dist/cli.js start -c gatehouse.yaml`, proxy core), then
 * wrk drives /api/users/1, /api/dashboard/1 and /api/inventory/sku-1 together for the run
 * (30 s unless --duration says otherwise). Reports RSS and the V8 heap (from the admin
 * /metrics) after start and after the run, the peak RSS during it, and CPU µs per request.
 * For comparisons by hand: BENCH_GATEWAY_NODE_ARGS (space-separated node flags for the
 * gateway, e.g. "--trace-gc") and BENCH_GATEWAY_LOG (keep its log there instead of the temp dir).
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { drive, type LoadResult } from './load.js';
import { ROOT, startGateway } from './gateway-process.js';
import { CORE, cpuMicros, rssMb, start, stop, waitForLine } from './procs.js';
import { round, table } from './stats.js';

export const DEMO_PATHS = ['/api/users/1', '/api/dashboard/1', '/api/inventory/sku-1'] as const;

export interface MemorySample {
  rssMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
  externalMb: number;
  /** V8 heap spaces: used / size MB. */
  spaces: Record<string, { usedMb: number; sizeMb: number }>;
}

export interface MemoryResult {
  seconds: number;
  connections: number;
  afterStart: MemorySample;
  afterRun: MemorySample;
  /** Highest RSS sampled (every 250 ms) during the run. */
  peakRssMb: number;
  load: (LoadResult & { path: string })[];
  requests: number;
  failed: number;
  cpuUsPerRequest: number;
}

const MB = 1048576;

/** process.memoryUsage()-like figures of the gateway, read from its admin /metrics (prom-client's default metrics). */
async function sample(pid: number, adminPort: number): Promise<MemorySample> {
  const res = await request(`http://127.0.0.1:${adminPort}/metrics`);
  const text = await res.body.text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const spaces: MemorySample['spaces'] = {};
  for (const m of text.matchAll(/^nodejs_heap_space_size_(used|total)_bytes\{space="([^"]+)"\} (\S+)/gm)) {
    const s = (spaces[m[2]!] ??= { usedMb: 0, sizeMb: 0 });
    if (m[1] === 'used') s.usedMb = round(Number(m[3]) / MB, 1);
    else s.sizeMb = round(Number(m[3]) / MB, 1);
  }
  return {
    rssMb: rssMb(pid),
    heapTotalMb: round(value('nodejs_heap_size_total_bytes') / MB, 1),
    heapUsedMb: round(value('nodejs_heap_size_used_bytes') / MB, 1),
    externalMb: round(value('nodejs_external_memory_bytes') / MB, 1),
    spaces,
  };
}

export async function measureMemory(dir: string, o: { seconds: number; connections: number; log: (l: string) => void }): Promise<MemoryResult> {
  const services = start(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/lib/demo-services.ts')], { core: CORE.load, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ports = await waitForLine<Record<'users' | 'orders' | 'payments' | 'inventory', number>>(services, (l) => (l.startsWith('{') ? JSON.parse(l) : undefined), 'demo services');
  const gw = await startGateway(path.join(ROOT, 'gatehouse.yaml'), {
    admin: true,
    logFile: process.env.BENCH_GATEWAY_LOG ?? path.join(dir, 'memory-gateway.log'),
    nodeArgs: process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean),
    env: {
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: '0',
      GATEHOUSE_ADMIN_HOST: '127.0.0.1',
      GATEHOUSE_ADMIN_PORT: '0',
      GATEHOUSE_WORKERS: '1',
      USERS_URL: `http://127.0.0.1:${ports.users}`,
      ORDERS_URL: `http://127.0.0.1:${ports.orders}`,
      PAYMENTS_URL: `http://127.0.0.1:${ports.payments}`,
      INVENTORY_URL: `grpc://127.0.0.1:${ports.inventory}`,
    },
  });
  try {
    await sleep(1000);
    const afterStart = await sample(gw.pid, gw.adminPort!);
    o.log(`demo gateway listening after ${Math.round(gw.startupMs)} ms, RSS ${afterStart.rssMb} MB (heap ${afterStart.heapUsedMb}/${afterStart.heapTotalMb} MB)`);
    const perPath = Math.max(1, Math.round(o.connections / DEMO_PATHS.length));
    let peakRssMb = afterStart.rssMb;
    const watcher = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(gw.pid))), 250);
    const cpu0 = cpuMicros(gw.pid);
    const results = await Promise.all(DEMO_PATHS.map((p) => drive({ url: `http://127.0.0.1:${gw.port}${p}`, connections: perPath, seconds: o.seconds })));
    const cpu = cpuMicros(gw.pid) - cpu0;
    clearInterval(watcher);
    const afterRun = await sample(gw.pid, gw.adminPort!);
    peakRssMb = Math.max(peakRssMb, afterRun.rssMb);
    const load = results.map((r, i) => ({ ...r, path: DEMO_PATHS[i]! }));
    const requests = load.reduce((a, r) => a + r.requests, 0);
    const failed = load.reduce((a, r) => a + r.failed, 0);
    o.log(`after ${o.seconds} s (${load.map((r) => `${r.path} ${Math.round(r.rps)} req/s`).join(', ')}; ${failed} failed): RSS ${afterRun.rssMb} MB, peak ${peakRssMb} MB`);
    return { seconds: o.seconds, connections: perPath * DEMO_PATHS.length, afterStart, afterRun, peakRssMb, load, requests, failed, cpuUsPerRequest: requests > 0 ? Math.round(cpu / requests) : NaN };
  } finally {
    await stop(gw.child);
    await stop(services);
  }
}

export function memoryTable(m: MemoryResult): string {
  const heap = (s: MemorySample) => `${s.heapUsedMb} / ${s.heapTotalMb}`;
  const space = (s: MemorySample, name: string) => (s.spaces[name] ? `${s.spaces[name].usedMb} / ${s.spaces[name].sizeMb}` : 'n/a');
  return table(
    ['measure', 'after start', `after ${m.seconds} s`],
    [
      ['RSS MB', String(m.afterStart.rssMb), String(m.afterRun.rssMb)],
      ['V8 heap used / total MB', heap(m.afterStart), heap(m.afterRun)],
      ['  new space used / size MB', space(m.afterStart, 'new'), space(m.afterRun, 'new')],
      ['  old space used / size MB', space(m.afterStart, 'old'), space(m.afterRun, 'old')],
      ['  code space used / size MB', space(m.afterStart, 'code'), space(m.afterRun, 'code')],
      ['external MB', String(m.afterStart.externalMb), String(m.afterRun.externalMb)],
      ['peak RSS MB during the run', '', String(m.peakRssMb)],
      ...m.load.map((r) => [`${r.path} req/s (failed)`, '', `${Math.round(r.rps)} (${r.failed})`]),
      ['CPU µs/req (all three)', '', String(m.cpuUsPerRequest)],
    ],
  );
}
