/** Built-in plugins plus the custom ones found in the plugins directory. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConfigIssue } from '../config/diagnostics.js';
import { displayPath } from '../config/source.js';
import { isPluginDefinition, type PluginDefinition } from './define.js';
import { builtinPlugins } from './builtins.js';
import { importTypeScript, PluginCompileError, stopCompiler } from './typescript-import.js';

export interface PluginRegistry {
  get(name: string): PluginDefinition | undefined;
  names(): string[];
  /** Where a custom plugin came from; undefined for built-ins. */
  fileOf(name: string): string | undefined;
}

const PLUGIN_FILE = /^[^.].*\.(ts|mts|js|mjs)$/;
const NOT_PLUGIN = /\.(d\.ts|test\.ts|test\.js|spec\.ts|spec\.js)$/;

/** One import per file for the life of the process, as Node's own module cache would do: a reload reuses it. */
const imported = new Map<string, Promise<unknown>>();

async function importPlugin(file: string): Promise<unknown> {
  let mod = imported.get(file);
  if (!mod) {
    mod = /\.m?ts$/.test(file) ? importTypeScript(file) : import(pathToFileURL(file).href);
    imported.set(file, mod);
    // A file that failed is tried again next time (it may have been fixed).
    mod.catch(() => imported.delete(file));
  }
  return ((await mod) as { default?: unknown }).default;
}

export async function loadRegistry(pluginsDir: string | undefined, issues: ConfigIssue[]): Promise<PluginRegistry> {
  const all = new Map<string, PluginDefinition>();
  const files = new Map<string, string>();
  for (const p of builtinPlugins) all.set(p.name, p);
  let entries: string[] = [];
  if (pluginsDir) {
    try {
      entries = (await readdir(pluginsDir)).filter((f) => PLUGIN_FILE.test(f) && !NOT_PLUGIN.test(f)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        issues.push({ file: displayPath(pluginsDir), line: 1, col: 1, path: '', message: `cannot read plugins directory: ${(err as Error).message}` });
      }
    }
  }
  for (const entry of entries) {
    const file = path.join(pluginsDir!, entry);
    const shown = displayPath(file);
    let def: unknown;
    try {
      def = await importPlugin(file);
    } catch (err) {
      const at = err instanceof PluginCompileError ? err : { line: 1, col: 1 };
      issues.push({ file: shown, line: at.line, col: at.col, path: '', message: `cannot load plugin: ${(err as Error).message.split('\n')[0]}` });
      continue;
    }
    if (!isPluginDefinition(def)) {
      issues.push({ file: shown, line: 1, col: 1, path: '', message: 'the default export is not a plugin (use export default definePlugin({ name, config, create }))' });
      continue;
    }
    const clash = files.get(def.name) ?? (all.has(def.name) ? 'the built-in plugins' : undefined);
    if (clash) {
      issues.push({ file: shown, line: 1, col: 1, path: '', message: `plugin name "${def.name}" is already taken by ${clash}` });
      continue;
    }
    all.set(def.name, def);
    files.set(def.name, shown);
  }
  await stopCompiler();
  return {
    get: (name) => all.get(name),
    names: () => [...all.keys()],
    fileOf: (name) => files.get(name),
  };
}
