/** The gateway as a separate process (`gatehouse start`), as users run it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** The built CLI when it is newer than every source file (npm test builds first), else the sources through tsx. */
function cliArgs(): string[] {
  const built = path.join(ROOT, 'dist/cli.js');
  try {
    if (statSync(built).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return [built];
  } catch {
    /* not built */
  }
  return ['--import', 'tsx', path.join(ROOT, 'src/cli.ts')];
}

export interface GatewayProcess {
  url: string;
  output(): string;
  close(): Promise<void>;
}

/** Starts `gatehouse start -c configFile` and waits until `port` answers HTTP. */
export async function startGatewayProcess(configFile: string, port: number): Promise<GatewayProcess> {
  const proc: ChildProcess = spawn(process.execPath, [...cliArgs(), 'start', '-c', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn' },
  });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
  };
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}: ${out}`);
    try {
      const res = await request(`${url}/__gatehouse_probe`);
      await res.body.dump();
      return { url, output: () => out, close };
    } catch {
      await sleep(50);
    }
  }
  await close();
  throw new Error(`gateway did not start: ${out}`);
}

/** Starts several at once; if any fails, the others are stopped too. */
export async function startGatewayProcesses(list: [configFile: string, port: number][]): Promise<GatewayProcess[]> {
  const settled = await Promise.allSettled(list.map(([file, port]) => startGatewayProcess(file, port)));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<GatewayProcess>).value);
}
