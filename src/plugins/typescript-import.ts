/**
 * Imports a TypeScript plugin without a process-wide loader. esbuild bundles the file with its
 * relative imports (packages stay imports, so `gatehouse` and node_modules resolve as before)
 * into a hidden .mjs beside it, which is imported and removed at once. tsx's loader, the
 * fallback for a directory that cannot be written, runs in a thread of its own on Node 20
 * (about 20 MB of RSS for the life of the process).
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildFailure } from 'esbuild';

/** A plugin file esbuild could not compile, with where (1-based line and column). */
export class PluginCompileError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
  }
}

function isBuildFailure(err: unknown): err is BuildFailure {
  return err instanceof Error && Array.isArray((err as Partial<BuildFailure>).errors);
}

async function bundle(file: string): Promise<string> {
  const { build } = await import('esbuild');
  try {
    const out = await build({
      entryPoints: [file],
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcemap: 'inline',
      write: false,
      logLevel: 'silent',
    });
    return out.outputFiles[0]!.text;
  } catch (err) {
    if (!isBuildFailure(err) || err.errors.length === 0) throw err;
    const first = err.errors[0]!;
    const where = first.location;
    const inOther = where && path.resolve(where.file) !== path.resolve(file) ? ` (in ${where.file}:${where.line}:${where.column + 1})` : '';
    const sameFile = where && !inOther;
    throw new PluginCompileError(`${first.text}${inOther}`, sameFile ? where.line : 1, sameFile ? where.column + 1 : 1);
  }
}

const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

let tsxRegistered = false;
async function importWithTsx(file: string): Promise<unknown> {
  const underTsx = process.execArgv.some((a) => a.includes('tsx')) || process.env.TSX_TSCONFIG_PATH !== undefined;
  if (!tsxRegistered && !underTsx) {
    tsxRegistered = true;
    const { register } = await import('tsx/esm/api');
    register();
  }
  return import(pathToFileURL(file).href);
}

let seq = 0;
/** The module's namespace. */
export async function importTypeScript(file: string): Promise<unknown> {
  const code = await bundle(file);
  const out = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${++seq}.mjs`);
  try {
    await writeFile(out, code, { flag: 'wx' });
  } catch (err) {
    if (UNWRITABLE.has((err as NodeJS.ErrnoException).code ?? '')) return importWithTsx(file);
    throw err;
  }
  try {
    return await import(pathToFileURL(out).href);
  } finally {
    await rm(out, { force: true });
  }
}
