/**
 * A Gatehouse gateway as its own process (`node dist/cli.js start -c FILE`, with the node
 * flags `npm start` and the Docker image pass: src/heap-settings.ts), pinned to the
 * proxy core. Its logs (access log included) go to a file next to the config, through a pipe
 * that a `cat` on the load core reads, as a container runtime reads a container's stdout; the
 * ports come from the "gateway listening" and "admin listening" lines.
 */
import { openSync, readFileSync, closeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { CORE, hasCommand, start } from './procs.js';
import { STARTUP_FLAGS } from '../../src/heap-settings.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/** Without `cat` (not a POSIX system) the gateway writes its log file itself. */
const HAS_CAT = hasCommand('cat');
export const CLI = path.join(ROOT, 'dist/cli.js');

/** Node flags for every gateway the bench starts, from BENCH_GATEWAY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
const extraNodeArgs = (): string[] => (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  adminPort: number | undefined;
  logFile: string;
}

function portOf(log: string, msg: string): number | undefined {
  for (const line of log.split('\n')) {
    if (!line.includes(`"${msg}"`)) continue;
    try {
      return (JSON.parse(line) as { port: number }).port;
    } catch {
      /* partial line */
    }
  }
  return undefined;
}

export interface StartOptions {
  admin?: boolean;
  timeoutMs?: number;
  /** Where its logs go (default: gateway.log next to the config file). */
  logFile?: string;
  /** Added to the environment (e.g. the demo config's ${VAR:-default} values). */
  env?: Readonly<Record<string, string>>;
  /** Extra node flags before dist/cli.js. */
  nodeArgs?: readonly string[];
  /** The gateway's cli.js (default: dist/cli.js; --paired --against runs another build's). */
  cli?: string;
}

export async function startGateway(configFile: string, opts: StartOptions = {}): Promise<GatewayProcess & { startupMs: number }> {
  const logFile = opts.logFile ?? path.join(path.dirname(configFile), 'gateway.log');
  const fd = openSync(logFile, 'w');
  const t0 = performance.now();
  // stdout is a pipe, as under a container runtime or systemd: a reader on the load core writes it to the file.
  const reader = HAS_CAT ? start('cat', [], { core: CORE.load, stdio: ['pipe', fd, 'ignore'] }) : undefined;
  const child = start(process.execPath, [...STARTUP_FLAGS, ...extraNodeArgs(), ...(opts.nodeArgs ?? []), opts.cli ?? CLI, 'start', '-c', configFile], {
    core: CORE.proxy,
    cwd: path.dirname(configFile),
    stdio: ['ignore', reader ? reader.stdin! : fd, fd],
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info', ...opts.env },
  });
  // Only the gateway holds the pipe open now: the reader ends when it does.
  reader?.stdin!.destroy();
  closeSync(fd);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gatehouse exited (${child.exitCode}):\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    const log = readFileSync(logFile, 'utf8');
    const port = portOf(log, 'gateway listening');
    const adminPort = portOf(log, 'admin listening');
    if (port !== undefined && (!opts.admin || adminPort !== undefined)) {
      return { child, pid: child.pid!, port, adminPort, logFile, startupMs: performance.now() - t0 };
    }
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`gatehouse did not listen within the timeout:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
}
