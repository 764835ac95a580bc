/**
 * Scale mode: 10,000 generated routes. Load + validate time, RSS and RouteTable.find p99 (in a
 * probe process), `gatehouse validate` wall time, the gateway's startup time and RSS with them
 * (after start, and the peak sampled every 100 ms through the reloads), and reloads of all
 * 10,000 under load, counting failed requests. The reloads alternate: the first adds one route
 * (the route tree is built again: the worst case), the next removes it again, and so on, with
 * an unchanged reload between each two (the running tree is taken over: RouteTable.rebind).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { drive, type LoadResult } from './load.js';
import { CLI, ROOT, startGateway } from './gateway-process.js';
import { rssMb, start, stop, waitForLine } from './procs.js';
import { table } from './stats.js';

export interface ScaleResult {
  routes: number;
  loadValidateMs: number;
  probeRssMb: number;
  validateCliMs: number;
  find: { lookups: number; misses: number; p50us: number; p99us: number };
  gatewayStartupMs: number;
  /** The highest RSS sampled (every 100 ms) from start through the reloads. */
  gatewayRssMb: number;
  /** RSS 500 ms after the gateway listens. */
  gatewayStartRssMb: number;
  reload: { count: number; ok: number; durationsMs: number[]; load: LoadResult; failed: number; kinds: ReloadKind[] };
}

/** What a reload changed: one route added or removed (a new route tree), or nothing (the running tree kept). */
export type ReloadKind = 'one route changed' | 'unchanged';

/** The extra route some reloads add to the first route file, on a path no request takes. */
const EXTRA_ROUTE = '  - id: r-extra\n    match: { path: /extra/route, methods: [GET] }\n    upstream: { service: origin }\n';

const ROUTES = 10_000;
const PER_FILE = 1_000;

/** Writes a config dir with `ROUTES` routes over one service; returns sample request paths. */
async function generate(dir: string, originUrl: string): Promise<{ configFile: string; paths: string[]; firstFile: { path: string; text: string } }> {
  await mkdir(path.join(dir, 'routes.d'), { recursive: true });
  const configFile = path.join(dir, 'gatehouse.yaml');
  await writeFile(configFile, `server: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: true, host: 127.0.0.1, port: 0 }\nlogging: { level: info, accessLog: false }\nroutes: ./routes.d\n`);
  const paths: string[] = [];
  let firstFile = { path: '', text: '' };
  for (let f = 0; f < ROUTES / PER_FILE; f++) {
    let text = f === 0 ? `services:\n  origin: { discovery: { static: [${JSON.stringify(originUrl)}] } }\nroutes:\n` : 'routes:\n';
    for (let j = 0; j < PER_FILE; j++) {
      const i = f * PER_FILE + j;
      const team = `t${i % 50}`;
      const kind = i % 4;
      const p = kind === 0 ? `/${team}/svc${i}/items/:id` : kind === 1 ? `/${team}/svc${i}/static/*` : kind === 2 ? `/${team}/svc${i}/users/:user/orders/:order` : `/${team}/svc${i}`;
      const sample = p.replace(':id', '42').replace('*', 'a/b.css').replace(':user', 'u1').replace(':order', 'o9');
      paths.push(sample);
      const methods = kind === 2 ? '[GET, POST]' : '[GET]';
      text += `  - id: r${i}\n    match: { path: ${JSON.stringify(p)}, methods: ${methods} }\n    upstream: { service: origin }\n`;
    }
    const file = path.join(dir, 'routes.d', `gen-${String(f).padStart(2, '0')}.yaml`);
    await writeFile(file, text);
    if (f === 0) firstFile = { path: file, text };
  }
  return { configFile, paths, firstFile };
}

export async function measureScale(dir: string, originUrl: string, o: { seconds: number; connections: number; log: (l: string) => void }): Promise<ScaleResult> {
  const { configFile, paths, firstFile } = await generate(dir, originUrl);
  const pathsFile = path.join(dir, 'paths.json');
  await writeFile(pathsFile, JSON.stringify(paths));

  const probe = start(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/lib/scale-probe.ts'), configFile, pathsFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = await waitForLine<{ loadMs: number; routes: number; rssMb: number; find: ScaleResult['find'] }>(probe, (l) => (l.startsWith('{') ? JSON.parse(l) : undefined), 'scale probe', 120_000);
  o.log(`loaded ${p.routes} routes in ${p.loadMs} ms (probe RSS ${p.rssMb} MB); find p50 ${p.find.p50us} µs p99 ${p.find.p99us} µs`);

  const t0 = performance.now();
  const v = spawnSync(process.execPath, [CLI, 'validate', '-c', configFile], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  const validateCliMs = Math.round(performance.now() - t0);
  if (v.status !== 0) throw new Error(`gatehouse validate failed: ${v.stderr}`);

  const gw = await startGateway(configFile, { admin: true, timeoutMs: 120_000 });
  try {
    await sleep(500);
    const gatewayStartRssMb = rssMb(gw.pid);
    o.log(`gateway with ${ROUTES} routes listening after ${Math.round(gw.startupMs)} ms, RSS ${gatewayStartRssMb} MB`);
    let peakRssMb = gatewayStartRssMb;
    const watcher = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(gw.pid))), 100);
    // Long enough to cover at least two reloads (one of each kind), which take about as long as the startup did.
    const seconds = Math.min(120, Math.max(4, o.seconds, Math.ceil((gw.startupMs * 2.5) / 1000) + 3));
    const target = `http://127.0.0.1:${gw.port}${paths[0]!.replace('/items/42', '/items/7')}`;
    const loading = drive({ url: target, connections: o.connections, seconds });
    const durationsMs: number[] = [];
    const kinds: ReloadKind[] = [];
    let ok = 0;
    let extra = false;
    const deadline = Date.now() + seconds * 1000 - gw.startupMs * 1.2 - 1000;
    // At least one reload of each kind, more while the load lasts.
    await sleep(1000);
    while (durationsMs.length < 2 || (Date.now() < deadline && durationsMs.length < 5)) {
      const kind: ReloadKind = durationsMs.length % 2 === 0 ? 'one route changed' : 'unchanged';
      if (kind === 'one route changed') {
        extra = !extra;
        await writeFile(firstFile.path, extra ? firstFile.text + EXTRA_ROUTE : firstFile.text);
      }
      kinds.push(kind);
      const r0 = performance.now();
      const res = await request(`http://127.0.0.1:${gw.adminPort}/reload`, { method: 'POST' });
      await res.body.dump();
      durationsMs.push(Math.round(performance.now() - r0));
      if (res.statusCode === 200) ok++;
      await sleep(300);
    }
    const load = await loading;
    clearInterval(watcher);
    o.log(
      `${durationsMs.length} reloads (${ok} ok, ${durationsMs.map((d, i) => `${d} ms ${kinds[i]}`).join(', ')}) under ${Math.round(load.rps)} req/s: ${load.failed} failed of ${load.requests} ` +
        `(${load.non2xx} non-2xx, ${load.socketErrors} socket errors, ${load.timeouts} timeouts)`,
    );
    return {
      routes: p.routes,
      loadValidateMs: p.loadMs,
      probeRssMb: p.rssMb,
      validateCliMs,
      find: p.find,
      gatewayStartupMs: Math.round(gw.startupMs),
      gatewayRssMb: Math.max(peakRssMb, rssMb(gw.pid)),
      gatewayStartRssMb,
      reload: { count: durationsMs.length, ok, durationsMs, load, failed: load.failed, kinds },
    };
  } finally {
    await stop(gw.child);
  }
}

function durationsOf(s: ScaleResult, kind: ReloadKind): string {
  return s.reload.durationsMs.filter((_, i) => s.reload.kinds[i] === kind).join(', ');
}

export function scaleTable(s: ScaleResult): string {
  return table(
    ['measure', 'value'],
    [
      ['routes', String(s.routes)],
      ['load + validate (in-process) ms', String(s.loadValidateMs)],
      ['`gatehouse validate` wall ms', String(s.validateCliMs)],
      ['probe RSS MB (after load)', String(s.probeRssMb)],
      ['RouteTable.find p50 / p99 µs', `${s.find.p50us} / ${s.find.p99us}`],
      ['gateway startup to listening ms', String(s.gatewayStartupMs)],
      ['gateway RSS MB after start', String(s.gatewayStartRssMb)],
      ['gateway RSS MB peak (start through reloads)', String(s.gatewayRssMb)],
      ['reloads under load (ok/total)', `${s.reload.ok}/${s.reload.count}`],
      ['reload durations ms (one route changed)', durationsOf(s, 'one route changed')],
      ['reload durations ms (unchanged)', durationsOf(s, 'unchanged') || '-'],
      ['requests during reloads / failed', `${s.reload.load.requests} / ${s.reload.failed}`],
      ['failed: non-2xx / socket errors / timeouts', `${s.reload.load.non2xx} / ${s.reload.load.socketErrors} / ${s.reload.load.timeouts}`],
    ],
  );
}
