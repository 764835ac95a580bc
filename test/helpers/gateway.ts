/** Config directories written for one test, and a real gateway started from them. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { Gateway } from '../../src/server.js';

export const silent = pino({ level: 'silent' });

export interface ConfigDir {
  dir: string;
  /** Absolute path of gatehouse.yaml in it. */
  configFile: string;
  write(relative: string, text: string): Promise<void>;
  remove(relative: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** A temp dir with `files` (relative path -> text); gatehouse.yaml gets `admin.enabled: false` unless given. */
export async function configDir(files: Record<string, string>, opts: { inProject?: boolean } = {}): Promise<ConfigDir> {
  // Inside the project, `import ... from 'gatehouse'` in a custom plugin resolves to this package.
  const base = opts.inProject ? path.resolve(import.meta.dirname, '../../.tmp') : os.tmpdir();
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(path.join(base, 'gatehouse-test-'));
  const write = async (rel: string, text: string) => {
    const full = path.join(dir, rel);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
  };
  const all = { 'gatehouse.yaml': 'admin: { enabled: false }\n', ...files };
  for (const [rel, text] of Object.entries(all)) await write(rel, text);
  return {
    dir,
    configFile: path.join(dir, 'gatehouse.yaml'),
    write,
    remove: (rel) => rm(path.join(dir, rel), { force: true }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  dir: ConfigDir;
  close(): Promise<void>;
}

/** Starts a gateway on 127.0.0.1:0 from the given files. */
export async function startGateway(
  files: Record<string, string>,
  opts: { inProject?: boolean; logger?: FastifyBaseLogger; watch?: boolean } = {},
): Promise<RunningGateway> {
  const dir = await configDir(files, opts);
  const gateway = await Gateway.start({ configFile: dir.configFile, logger: opts.logger ?? silent, port: 0, host: '127.0.0.1', adminPort: 0, watch: opts.watch });
  return {
    gateway,
    url: `http://127.0.0.1:${gateway.address().port}`,
    dir,
    close: async () => {
      await gateway.close(1000);
      await dir.cleanup();
    },
  };
}

/** A route file with one service `svc` over `targets` and the given routes YAML (indented list items). */
export function routeFile(targets: string[], routes: string, serviceExtra = ''): string {
  return `services:\n  svc:\n    discovery:\n      static: [${targets.map((t) => JSON.stringify(t)).join(', ')}]\n${serviceExtra}routes:\n${routes}`;
}

/**
 * Loads the config written from `files` and returns every error as `FILE:LINE:COL path: message`
 * with paths relative to the config directory; an empty list when it loads.
 */
export async function configErrors(files: Record<string, string>, env?: NodeJS.ProcessEnv): Promise<string[]> {
  const { loadConfig } = await import('../../src/config/load.js');
  const { ConfigError, formatIssue } = await import('../../src/config/diagnostics.js');
  const dir = await configDir(files);
  try {
    await loadConfig({ configFile: dir.configFile, env });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => formatIssue(i).replaceAll(`${dir.dir}/`, ''));
  } finally {
    await dir.cleanup();
  }
}
