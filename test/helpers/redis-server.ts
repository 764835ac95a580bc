/** Real redis-server processes on free ports, for one test file: single nodes and a 3-node cluster. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closedPort } from './upstream.js';

export interface RedisServer {
  port: number;
  url: string;
  /** SIGKILL: connections are refused until start() again. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill()). */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Runs redis-cli against it and returns stdout. */
  cli(...args: string[]): string;
  close(): Promise<void>;
}

/** Answers once redis-server accepts a PING on `port`. */
async function waitForPing(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => s.end('PING\r\n'));
      s.once('data', (b) => {
        resolve(b.toString().startsWith('+PONG'));
        s.destroy();
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`redis-server on ${port} did not start`);
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export async function startRedis(extraArgs: string[] = [], dir?: string): Promise<RedisServer> {
  const port = await closedPort();
  let proc: ChildProcess;
  let paused = false;
  const launch = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {
      stdio: 'ignore',
      cwd: dir ?? os.tmpdir(),
    });
    await waitForPing(port);
  };
  await launch();
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async kill() {
      if (paused) server.resume();
      proc.kill('SIGKILL');
      await exited(proc);
    },
    start: launch,
    pause() {
      paused = true;
      proc.kill('SIGSTOP');
    },
    resume() {
      paused = false;
      proc.kill('SIGCONT');
    },
    cli: (...args) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout,
    async close() {
      if (paused) server.resume();
      proc.kill('SIGKILL');
      await exited(proc);
    },
  };
  return server;
}

export interface RedisCluster {
  nodes: RedisServer[];
  /** host:port list for `redis.cluster`. */
  addresses: string[];
  close(): Promise<void>;
}

/** Three masters, no replicas, every slot assigned; resolves once cluster_state is ok on each. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-redis-cluster-'));
  const nodes: RedisServer[] = [];
  for (let i = 0; i < 3; i++) {
    nodes.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '2000'], dir));
  }
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  for (let i = 0; i < 200; i++) {
    if (nodes.every((n) => n.cli('cluster', 'info').includes('cluster_state:ok'))) break;
    await sleep(50);
  }
  return {
    nodes,
    addresses,
    close: async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
