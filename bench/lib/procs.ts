/**
 * Child processes of the benchmark: spawned (optionally pinned to a core with taskset),
 * tracked, and all killed when the harness exits or is interrupted. Also /proc readings of
 * a process tree: RSS and CPU time.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';

const children = new Set<ChildProcess>();

export const HAS_TASKSET = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0 && os.availableParallelism() >= 2;
/** The load generator (and upstreams) run on core 0, the proxy under test on core 1. */
export const CORE = { load: '0', proxy: '1' } as const;

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Spawns `cmd args`, pinned to `core` when taskset is available; killed on harness exit. */
export function start(cmd: string, args: readonly string[], options: SpawnOptions & { core?: string } = {}): ChildProcess {
  const { core, ...rest } = options;
  const pinned = core !== undefined && HAS_TASKSET;
  const child = pinned ? spawn('taskset', ['-c', core, cmd, ...args], rest) : spawn(cmd, [...args], rest);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** SIGKILLs every child and its descendants (nginx workers outlive a killed master). */
export function killAll(): void {
  for (const c of children) {
    if (c.pid === undefined || c.exitCode !== null) continue;
    for (const pid of tree(c.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  children.clear();
}

/**
 * Asks every child to stop (SIGTERM) and waits up to `ms` for them, then SIGKILLs what is left:
 * a gateway writes what it owes on the way out (a --cpu-prof profile, its last log lines).
 */
export async function stopAll(ms = 3000): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(resolve, ms);
          c.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  killAll();
}

process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The process and its descendants (taskset execs in place, nginx forks workers). */
export function tree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...childPids(all[i]!));
  return all;
}

const TICK_US = 1e6 / 100;

/** User + system CPU time of the tree, in microseconds (clock ticks of 10 ms). */
export function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').slice(0).split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return ticks * TICK_US;
}

/** Resident memory of the tree, in MB. */
export function rssMb(pid: number): number {
  let kb = 0;
  for (const p of tree(pid)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return Math.round(kb / 102.4) / 10;
}

/** Resolves with the first line of `child`'s stdout+stderr that `pick` maps to a value. */
export function waitForLine<T>(child: ChildProcess, pick: (line: string) => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no ready line within ${timeoutMs} ms:\n${buf.slice(-2000)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        const v = pick(line);
        if (v !== undefined) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve(v);
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (buf += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${buf.slice(-2000)}`));
    });
  });
}
