/**
 * What the benchmark compares: the upstreams, the peers (nginx, fast-gateway, the undici
 * reference) and the Gatehouse gateways, each its own process, plus the rows that drive them.
 * Gatehouse configs reuse the scenario modules (bench/auth-scenario.ts, bench/aggregate-scenario.ts).
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { authScenario } from '../auth-scenario.js';
import { aggregateScenario } from '../aggregate-scenario.js';
import { startGateway, ROOT } from './gateway-process.js';
import { startNginx, NGINX } from './nginx.js';
import { CORE, freePort, hasCommand, start, waitForLine } from './procs.js';

export interface Row {
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The process whose RSS and CPU time the row reports. */
  readonly pid: number;
}

export interface Skipped {
  readonly name: string;
  readonly reason: string;
}

export interface Candidates {
  rows: Row[];
  skipped: Skipped[];
  dir: string;
  upstreamPorts: number[];
}

export const ROW = {
  direct: 'direct',
  nginx: 'nginx',
  fastGateway: 'fast-gateway',
  undici: 'undici ref',
  plain: 'gatehouse plain',
  full: 'gatehouse full chain',
  hs256: 'gatehouse jwt HS256',
  rs256: 'gatehouse jwt RS256',
  aggregate: 'gatehouse aggregate x3',
  grpc: 'gatehouse REST->gRPC',
  grpcJs: 'gatehouse REST->gRPC grpc-js',
  rlMemory: 'gatehouse rate-limit memory',
  rlRedis: 'gatehouse rate-limit redis',
} as const;

export const SMOKE_ROWS: readonly string[] = [ROW.direct, ROW.undici, ROW.plain];

const TSX = ['--import', 'tsx'];

async function startJsonChild<T>(script: string, args: string[], core: string | undefined): Promise<{ child: ChildProcess; info: T }> {
  const child = start(process.execPath, [...TSX, path.join(ROOT, script), ...args], { core, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const info = await waitForLine<T>(child, (line) => {
    try {
      return line.trim().startsWith('{') ? (JSON.parse(line) as T) : undefined;
    } catch {
      return undefined;
    }
  }, script);
  child.stdout!.resume();
  return { child, info };
}

const REDIS_MISSING = 'no redis-server to start and Redis on 127.0.0.1:6379 does not answer';

/**
 * The Redis the Redis rows use: the bench's own redis-server (no persistence) on a free port,
 * pinned to the load core with the upstreams, so its CPU is not taken from the proxy's core;
 * else the one on 127.0.0.1:6379 (unpinned: the rows then share the proxy's core with it).
 */
async function benchRedis(): Promise<{ port: number } | undefined> {
  if (hasCommand('redis-server')) {
    const port = await freePort();
    start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { core: CORE.load, stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await redisAnswers(port)) return { port };
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return (await redisAnswers(6379)) ? { port: 6379 } : undefined;
}

export function redisAnswers(port = 6379): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => (s.destroy(), resolve(d.toString().startsWith('+PONG'))));
  });
}

/** What startCandidates is asked to vary: `cli` runs the gateways from another build. */
export interface CandidateOptions {
  readonly cli?: string;
}

async function gatehouse(dir: string, name: string, settings: string, files: Record<string, string>, admin: boolean, opts: CandidateOptions) {
  const d = path.join(dir, name);
  await mkdir(path.join(d, 'routes.d'), { recursive: true });
  const cfg = path.join(d, 'gatehouse.yaml');
  await writeFile(
    cfg,
    `server: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: ${admin}, host: 127.0.0.1, port: 0 }\nroutes: ./routes.d\n${settings}`,
  );
  for (const [file, text] of Object.entries(files)) {
    if (file === 'gatehouse.yaml') continue;
    await mkdir(path.dirname(path.join(d, file)), { recursive: true });
    await writeFile(path.join(d, file), text);
  }
  return startGateway(cfg, { admin, cli: opts.cli });
}

const QUIET = 'logging: { level: info, accessLog: false }\n';

/** Starts everything `wanted` needs; rows whose peer is missing are skipped with a reason. */
export async function startCandidates(wanted: ReadonlySet<string>, opts: CandidateOptions = {}): Promise<Candidates> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-bench-'));
  const rows: Row[] = [];
  const skipped: Skipped[] = [];
  const want = (n: string) => wanted.has(n);
  const up = await startJsonChild<{ ports: number[] }>('bench/lib/upstream-server.ts', ['3'], CORE.load);
  const ports = up.info.ports;
  const origin = `http://127.0.0.1:${ports[0]}`;
  const origins = ports.map((p) => `http://127.0.0.1:${p}`) as [string, string, string];
  const url = (port: number, p: string) => `http://127.0.0.1:${port}${p}`;

  if (want(ROW.direct)) rows.push({ name: ROW.direct, url: `${origin}/plain`, headers: {}, pid: up.child.pid! });
  if (want(ROW.nginx)) {
    if (!NGINX) skipped.push({ name: ROW.nginx, reason: 'nginx not installed' });
    else {
      const n = await startNginx(dir, ports[0]!);
      rows.push({ name: ROW.nginx, url: url(n.port, '/plain'), headers: {}, pid: n.child.pid! });
    }
  }
  if (want(ROW.fastGateway)) {
    try {
      const fg = await startJsonChild<{ port: number }>('bench/lib/fast-gateway-server.ts', [origin], CORE.proxy);
      rows.push({ name: ROW.fastGateway, url: url(fg.info.port, '/plain/x'), headers: {}, pid: fg.child.pid! });
    } catch (err) {
      skipped.push({ name: ROW.fastGateway, reason: `fast-gateway did not start (${(err as Error).message.split('\n')[0]})` });
    }
  }
  if (want(ROW.undici)) {
    const ref = await startJsonChild<{ port: number }>('bench/reference-proxy.ts', [origin], CORE.proxy);
    rows.push({ name: ROW.undici, url: url(ref.info.port, '/plain'), headers: {}, pid: ref.child.pid! });
  }

  const auth = authScenario(origin);
  if (want(ROW.plain) || want(ROW.hs256) || want(ROW.rs256)) {
    const gw = await gatehouse(dir, 'auth', QUIET, auth.files, false, opts);
    const byName: Record<string, string> = { 'gateway plain': ROW.plain, 'gateway jwt HS256': ROW.hs256, 'gateway jwt RS256': ROW.rs256 };
    for (const r of auth.rows) {
      const name = byName[r.name];
      if (name && want(name)) rows.push({ name, url: url(gw.port, r.path), headers: r.headers, pid: gw.pid });
    }
  }

  const needsRedis = want(ROW.full) || want(ROW.rlRedis);
  const redis = needsRedis ? await benchRedis() : undefined;
  const redisUp = redis !== undefined;
  if (want(ROW.full)) {
    if (!redisUp) skipped.push({ name: ROW.full, reason: REDIS_MISSING });
    else {
      const secret = /"secret":"([^"]+)"/.exec(auth.files['routes.d/bench-auth.yaml']!)![1]!;
      const hs = auth.rows.find((r) => r.path === '/jwt-hs256')!.headers;
      const routes =
        `services:\n  pool:\n    loadBalancer: p2c-ewma\n    circuitBreaker: {}\n    discovery: { static: ${JSON.stringify(origins)} }\n` +
        `routes:\n  - id: full\n    match: { path: /full }\n    upstream: { service: pool }\n    plugins:\n` +
        `      - jwt: ${JSON.stringify({ secret, issuer: 'bench', audience: 'bench' })}\n` +
        `      - rate-limit: { limit: 100000000, window: 1h, by: route }\n`;
      const gw = await gatehouse(
        dir,
        'full',
        `logging: { level: info, accessLog: true }\nredis: { url: "redis://127.0.0.1:${redis!.port}", keyPrefix: "gatehouse-bench-${process.pid}-full:", commandTimeout: 200ms }\n`,
        { 'routes.d/full.yaml': routes },
        true,
        opts,
      );
      rows.push({ name: ROW.full, url: url(gw.port, '/full'), headers: hs, pid: gw.pid });
    }
  }

  if (want(ROW.aggregate)) {
    const agg = aggregateScenario(origins);
    const gw = await gatehouse(dir, 'aggregate', QUIET, agg.files, false, opts);
    const parallel = agg.rows.find((r) => r.path.startsWith('/parallel'))!;
    rows.push({ name: ROW.aggregate, url: url(gw.port, parallel.path), headers: parallel.headers, pid: gw.pid });
  }

  // REST->gRPC twice: on the light node:http2 upstream (the row the target reads), and on a grpc-js server.
  for (const [name, upstream, gwDir] of [
    [ROW.grpc, 'bench/lib/grpc-static-upstream.ts', 'grpc'],
    [ROW.grpcJs, 'bench/lib/grpc-upstream.ts', 'grpc-js'],
  ] as const) {
    if (!want(name)) continue;
    const g = await startJsonChild<{ port: number }>(upstream, [], CORE.load);
    const proto = path.join(ROOT, 'test/fixtures/protos/inventory.proto');
    const routes =
      `services:\n  inventory:\n    protocol: grpc\n    discovery: { static: ["grpc://127.0.0.1:${g.info.port}"] }\n` +
      `routes:\n  - id: grpc\n    match: { path: /grpc/shelves/:shelf/items/:sku, methods: [GET] }\n` +
      `    grpc: { service: inventory, proto: ${JSON.stringify(proto)}, method: shop.v1.Inventory/GetItem }\n`;
    const gw = await gatehouse(dir, gwDir, QUIET, { 'routes.d/grpc.yaml': routes }, false, opts);
    rows.push({ name, url: url(gw.port, '/grpc/shelves/s1/items/sku-7'), headers: {}, pid: gw.pid });
  }

  for (const store of ['memory', 'redis'] as const) {
    const name = store === 'memory' ? ROW.rlMemory : ROW.rlRedis;
    if (!want(name)) continue;
    if (store === 'redis' && !redisUp) {
      skipped.push({ name, reason: REDIS_MISSING });
      continue;
    }
    const redisSettings = store === 'redis' ? `redis: { url: "redis://127.0.0.1:${redis!.port}", keyPrefix: "gatehouse-bench-${process.pid}-rl:", commandTimeout: 200ms }\n` : '';
    const routes =
      `services:\n  svc: { discovery: { static: ["${origin}"] } }\n` +
      `routes:\n  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - rate-limit: { limit: 100000000, window: 1h, by: route }\n`;
    const gw = await gatehouse(dir, `rl-${store}`, QUIET + redisSettings, { 'routes.d/rl.yaml': routes }, false, opts);
    rows.push({ name, url: url(gw.port, '/api/x'), headers: {}, pid: gw.pid });
  }
  return { rows, skipped, dir, upstreamPorts: ports };
}
