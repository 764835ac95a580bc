#!/usr/bin/env node
/** gatehouse start | validate | routes | explain | hash-key | register */
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { ConfigError, formatIssue } from './config/diagnostics.js';
import { StreamListenError } from './streams/listener.js';
import { loadConfig, type LoadOptions } from './config/load.js';
import { createLogger, logsWritten } from './logger.js';
import { Gateway } from './server.js';
import { runPrimary, runWorker, workerCount } from './cluster.js';
import { ServiceSet } from './upstream/services.js';
import { explain } from './cli/explain.js';
import { routeList } from './cli/route-list.js';
import { silentLogger } from './cli/silent-logger.js';
import { registerArgs } from './cli/register-args.js';
import { registerTarget, type Registration } from './discovery/register.js';
import { applyHeapSettings, holdHeapTight } from './heap-settings.js';

const USAGE = `usage: gatehouse <command> [options]

commands:
  start    [-c FILE] [--routes DIR] [--workers N|auto]   run the gateway
  validate [-c FILE] [--routes DIR]                      check all config; exit 1 listing every error
  routes   [-c FILE] [--routes DIR]                      print the route table
  explain  METHOD URL [-H 'name: value']... [-c FILE]    which route a request takes, its plugins and target
  hash-key KEY                                           the sha256 an api-key plugin stores
  register --redis URL --key KEY --url TARGET --ttl 10s [--weight N]
                                                         keep TARGET registered for redis discovery until stopped

-c FILE defaults to ./gatehouse.yaml (embedded defaults when it does not exist).`;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function printIssues(err: unknown): never {
  if (err instanceof ConfigError) {
    for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    fail(`${err.issues.length} error${err.issues.length === 1 ? '' : 's'} in config`);
  }
  if (err instanceof StreamListenError) fail(`gatehouse: ${err.message}`);
  throw err;
}

async function load(opts: LoadOptions): Promise<Awaited<ReturnType<typeof loadConfig>>> {
  try {
    return await loadConfig(opts);
  } catch (err) {
    printIssues(err);
  }
}

async function main(argv: string[]): Promise<void> {
  applyHeapSettings();
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === '--version' || command === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        routes: { type: 'string' },
        workers: { type: 'string' },
        header: { type: 'string', short: 'H', multiple: true },
        redis: { type: 'string' },
        key: { type: 'string' },
        url: { type: 'string' },
        ttl: { type: 'string' },
        weight: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const opts: LoadOptions = { configFile: values.config, routesDir: values.routes };

  switch (command) {
    case 'validate': {
      const snapshot = await load(opts);
      // Building the app runs every plugin's create(), which can refuse a config too.
      // Neither discovery nor health checks run: validate only checks config, it never reaches DNS, etcd, Redis or a target.
      const services = new ServiceSet({ healthChecks: false, providerFor: () => ({ watch: () => () => undefined }) });
      services.sync(snapshot.services);
      try {
        const built = await buildApp({ snapshot, services, logger: silentLogger });
        await built.app.close();
      } catch (err) {
        printIssues(err);
      } finally {
        await services.close();
      }
      process.stdout.write(`ok: ${snapshot.files.length} file${snapshot.files.length === 1 ? '' : 's'}, ${snapshot.services.size} services, ${snapshot.routes.length} routes\n`);
      return;
    }
    case 'routes': {
      const snapshot = await load(opts);
      process.stdout.write(`${routeList(snapshot).join('\n')}\n`);
      return;
    }
    case 'explain': {
      const [method, url] = positionals;
      if (!method || !url) fail(`explain needs METHOD and URL\n\n${USAGE}`, 2);
      const headers: Record<string, string> = {};
      for (const h of values.header ?? []) {
        const colon = h.indexOf(':');
        if (colon <= 0) fail(`-H wants 'name: value', got '${h}'`, 2);
        headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
      }
      const snapshot = await load(opts);
      const result = await explain(snapshot, { method: method.toUpperCase(), url, headers });
      process.stdout.write(`${result.lines.join('\n')}\n`);
      if (!result.matched) process.exit(1);
      return;
    }
    case 'hash-key': {
      const [key] = positionals;
      if (!key) fail('hash-key needs KEY', 2);
      process.stdout.write(`${createHash('sha256').update(key).digest('hex')}\n`);
      return;
    }
    case 'register': {
      const args = registerArgs(values);
      if (!args.ok) fail(`${args.error}\n\n${USAGE}`, 2);
      const { redis, key, url, ttl, weight } = args;
      const logger = createLogger();
      let registration: Registration;
      try {
        registration = await registerTarget({
          redis,
          key,
          url,
          ttl,
          weight,
          onError: (err) => logger.warn({ key, url, err: err.message }, 'heartbeat failed; trying again'),
        });
      } catch (err) {
        fail(`gatehouse register: ${(err as Error).message}`);
      }
      logger.info({ key, member: registration.member, ttl }, 'registered');
      const stop = (signal: string) => {
        logger.info({ signal, key, member: registration.member }, 'deregistering');
        registration.stop().then(
          () => logsWritten(logger).then(() => process.exit(0)),
          (err: Error) => fail(`gatehouse register: could not deregister: ${err.message}`),
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      return;
    }
    case 'start': {
      const logger = createLogger();
      if (cluster.isWorker) {
        await runWorker(opts, logger);
        return;
      }
      // Loading leaves garbage behind: the heap stays tight (heap-settings.ts) until the gateway serves.
      const releaseHeap = holdHeapTight();
      const snapshot = await load(opts);
      logger.level = snapshot.settings.logging.level;
      const workers = values.workers !== undefined ? (values.workers === 'auto' ? 'auto' : Number(values.workers)) : snapshot.settings.server.workers;
      if (workers !== 'auto' && (!Number.isInteger(workers) || workers < 1)) fail('--workers wants a whole number >= 1 or auto', 2);
      if (workerCount(workers) > 1) {
        releaseHeap();
        await runPrimary(opts, { ...snapshot, settings: { ...snapshot.settings, server: { ...snapshot.settings.server, workers } } }, logger);
        return;
      }
      // Signal handlers first: a SIGHUP during startup must not kill the process.
      let gateway: Gateway | undefined;
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down: draining in-flight requests');
        void (gateway?.close() ?? Promise.resolve()).then(async () => {
          logger.info('stopped');
          await logsWritten(logger);
          process.exit(0);
        });
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => void gateway?.reload());
      try {
        // The config loaded above is the one served: 10,000 routes are not loaded twice.
        gateway = await Gateway.start({ ...opts, logger, watch: true, snapshot });
      } catch (err) {
        printIssues(err);
      } finally {
        releaseHeap();
      }
      return;
    }
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`gatehouse: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
