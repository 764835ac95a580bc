/**
 * `server.workers: N|auto`: a primary process forks N node:cluster workers that share the
 * listening port. The primary serves the admin API, watches config and fans reloads and
 * shutdown out to every worker.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildAdminApp } from './admin/server.js';
import type { AdminSource, ServiceReport } from './admin/source.js';
import { ConfigError, formatIssue } from './config/diagnostics.js';
import { loadConfig, type LoadOptions } from './config/load.js';
import type { Snapshot } from './config/snapshot.js';
import { watchConfig } from './config/watch.js';
import { logsWritten } from './logger.js';
import { Gateway, type ReloadResult } from './server.js';
import { answerPrimaryMetrics, metricsText } from './observability/metrics.js';

type ToWorker = { type: 'reload'; id: number } | { type: 'services'; id: number } | { type: 'shutdown' };
type FromWorker =
  | { type: 'ready' }
  | { type: 'reloaded'; id: number; result: ReloadResult }
  | { type: 'services'; id: number; services: ServiceReport[] };

export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

/** In a worker: run the gateway (no admin, no watcher) and answer the primary. */
export async function runWorker(options: LoadOptions, logger: FastifyBaseLogger): Promise<void> {
  // Signals go to the whole process group; the primary decides, workers wait for its word.
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  answerPrimaryMetrics();
  const gateway = await Gateway.start({ ...options, logger, admin: false, watch: false });
  const send = (m: FromWorker) => process.send?.(m);
  process.on('message', (m: ToWorker) => {
    if (m.type === 'reload') void gateway.reload().then((result) => send({ type: 'reloaded', id: m.id, result }));
    else if (m.type === 'services') void gateway.services().then((services) => send({ type: 'services', id: m.id, services }));
    else if (m.type === 'shutdown') void gateway.close().then(() => logsWritten(logger)).then(() => process.exit(0));
  });
  send({ type: 'ready' });
}

class Primary implements AdminSource {
  private snap: Snapshot;
  private gen = 1;
  private nextId = 1;
  private readonly workers = new Set<Worker>();
  private readonly readyWorkers = new Set<Worker>();
  private readonly pending = new Map<number, { left: number; results: unknown[]; done: (r: unknown[]) => void }>();
  private stopping = false;
  admin: FastifyInstance | undefined;

  constructor(
    snapshot: Snapshot,
    private readonly options: LoadOptions,
    private readonly logger: FastifyBaseLogger,
    private readonly count: number,
  ) {
    this.snap = snapshot;
  }

  fork(): void {
    const w = cluster.fork();
    this.workers.add(w);
    w.on('message', (m: FromWorker) => {
      if (m.type === 'ready') this.readyWorkers.add(w);
      else this.answer(m.id, m.type === 'reloaded' ? m.result : m.services);
    });
    w.on('exit', (code, signal) => {
      const wasReady = this.readyWorkers.has(w);
      this.workers.delete(w);
      this.readyWorkers.delete(w);
      if (!this.stopping && !wasReady) {
        // A worker that cannot even start will not do better on a retry: stop everything.
        this.logger.fatal({ worker: w.id, code, signal }, 'worker failed to start; stopping');
        this.stopping = true;
        for (const other of this.workers) other.kill();
        process.exit(1);
      }
      if (!this.stopping) {
        this.logger.error({ worker: w.id, code, signal }, 'worker died; starting another');
        this.fork();
      }
    });
  }

  start(): void {
    for (let i = 0; i < this.count; i++) this.fork();
  }

  private answer(id: number, result: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.results.push(result);
    if (--p.left === 0) {
      this.pending.delete(id);
      p.done(p.results);
    }
  }

  private ask(make: (id: number) => ToWorker): Promise<unknown[]> {
    const id = this.nextId++;
    const targets = [...this.readyWorkers];
    if (targets.length === 0) return Promise.resolve([]);
    return new Promise((done) => {
      this.pending.set(id, { left: targets.length, results: [], done });
      for (const w of targets) w.send(make(id));
    });
  }

  snapshot(): Snapshot {
    return this.snap;
  }
  generation(): number {
    return this.gen;
  }
  ready(): boolean {
    return !this.stopping && this.readyWorkers.size === this.count;
  }
  metrics(): Promise<{ contentType: string; body: string }> {
    return metricsText(true);
  }
  async services(): Promise<{ worker: number; services: ServiceReport[] }[]> {
    const lists = (await this.ask((id) => ({ type: 'services', id }))) as ServiceReport[][];
    return lists.map((services, i) => ({ worker: i + 1, services }));
  }

  async reload(): Promise<ReloadResult> {
    let next: Snapshot;
    try {
      next = await loadConfig(this.options);
    } catch (err) {
      const errors = err instanceof ConfigError ? err.issues.map(formatIssue) : [(err as Error).message];
      for (const e of errors) this.logger.error(e);
      this.logger.error({ errors: errors.length }, 'reload rejected; the running config keeps serving');
      return { ok: false, errors };
    }
    const results = (await this.ask((id) => ({ type: 'reload', id }))) as ReloadResult[];
    const failed = results.find((r) => !r.ok);
    if (failed) return failed;
    this.snap = next;
    this.gen++;
    this.logger.info({ generation: this.gen, workers: results.length }, 'config reloaded in every worker');
    return { ok: true, generation: this.gen };
  }

  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    await this.admin?.close().catch(() => undefined);
    const exits = [...this.workers].map((w) => new Promise<void>((r) => w.once('exit', () => r())));
    for (const w of this.workers) {
      // A worker still starting has served nothing and cannot hear the word yet.
      if (this.readyWorkers.has(w)) w.send({ type: 'shutdown' } satisfies ToWorker);
      else w.process.kill('SIGKILL');
    }
    const deadline = setTimeout(() => {
      for (const w of this.workers) w.process.kill('SIGKILL');
    }, graceMs + 5000);
    deadline.unref();
    await Promise.all(exits);
    clearTimeout(deadline);
  }
}

/** In the primary: validate config, fork the workers, serve admin, relay reloads and shutdown. */
export async function runPrimary(options: LoadOptions, snapshot: Snapshot, logger: FastifyBaseLogger): Promise<void> {
  const count = workerCount(snapshot.settings.server.workers);
  const primary = new Primary(snapshot, options, logger, count);
  let stopWatching = () => undefined as void;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining every worker');
    stopWatching();
    void primary.shutdown(snapshot.settings.server.shutdownGrace).then(async () => {
      logger.info('stopped');
      await logsWritten(logger);
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void primary.reload());
  primary.start();
  logger.info({ workers: count }, 'started workers');
  const { admin } = snapshot.settings;
  if (admin.enabled) {
    primary.admin = await buildAdminApp(primary, logger);
    await primary.admin.listen({ port: admin.port, host: admin.host });
    logger.info({ address: admin.host, port: (primary.admin.server.address() as AddressInfo).port }, 'admin listening');
  }
  stopWatching = watchConfig(snapshot, (file) => {
    logger.info({ file }, 'config changed; reloading');
    void primary.reload();
  });
}
