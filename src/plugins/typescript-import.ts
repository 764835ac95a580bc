/**
 * Imports a TypeScript plugin without a process-wide loader. esbuild bundles the file with the
 * files it imports from its own directory (everything else stays an import: see
 * keepOutsideImports) into a hidden .mjs beside it, which is imported and removed at once.
 * tsx's loader, the fallback, runs in a thread of its own on Node 20 (about 20 MB of RSS for
 * the life of the process).
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isBuiltin } from 'node:module';
import type { BuildFailure, Plugin } from 'esbuild';

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

const TS_FILE = /\.[mc]?ts$/;
const SKIP = Symbol('resolving');

/**
 * Only the files inside the plugin's directory are bundled. Packages imported from there stay
 * bare imports, resolved by Node from the compiled file beside them as they would be from the
 * source. Anything else (files outside the directory, packages imported from those) becomes an
 * import of its absolute URL, so a module the gateway also loads stays one instance.
 */
function keepOutsideImports(dir: string, outsideTs: string[]): Plugin {
  const inside = (p: string) => p === dir || p.startsWith(dir + path.sep);
  return {
    name: 'gatehouse-keep-outside-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === SKIP) return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const bare = !args.path.startsWith('.') && !path.isAbsolute(args.path) && !args.path.startsWith('file:');
        if (bare && path.dirname(args.importer) === dir) return { path: args.path, external: true };
        const spec = args.path.startsWith('file:') ? fileURLToPath(args.path) : args.path;
        const r = await b.resolve(spec, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SKIP });
        if (r.errors.length > 0) return { errors: r.errors };
        if (!bare && inside(r.path)) return { path: r.path };
        if (TS_FILE.test(r.path)) outsideTs.push(r.path);
        return { path: pathToFileURL(r.path).href, external: true };
      });
    },
  };
}

interface Bundle {
  code: string;
  /** TypeScript files outside the plugin's directory that it imports: they need a loader. */
  outsideTs: string[];
}

/** Whether esbuild's service process may be running (stopCompiler ends it). */
let compilerStarted = false;

async function bundle(file: string): Promise<Bundle> {
  const { build } = await import('esbuild');
  compilerStarted = true;
  const outsideTs: string[] = [];
  try {
    const out = await build({
      entryPoints: [file],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcemap: 'inline',
      write: false,
      logLevel: 'silent',
      plugins: [keepOutsideImports(path.dirname(path.resolve(file)), outsideTs)],
    });
    return { code: out.outputFiles[0]!.text, outsideTs };
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

const underTsx = (): boolean => process.execArgv.some((a) => a.includes('tsx')) || process.env.TSX_TSCONFIG_PATH !== undefined;

let tsxRegistered = false;
async function importWithTsx(file: string): Promise<unknown> {
  if (!tsxRegistered && !underTsx()) {
    tsxRegistered = true;
    const { register } = await import('tsx/esm/api');
    register();
  }
  return import(pathToFileURL(file).href);
}

/**
 * Ends esbuild's service process (a child of its own, ~12-16 MB) once the plugins are loaded;
 * a later compile starts it again.
 */
export async function stopCompiler(): Promise<void> {
  if (!compilerStarted) return;
  compilerStarted = false;
  const { stop } = await import('esbuild');
  await stop();
}

let seq = 0;
/** The module's namespace. */
export async function importTypeScript(file: string): Promise<unknown> {
  const { code, outsideTs } = await bundle(file);
  if (outsideTs.length > 0 && !underTsx()) return importWithTsx(file);
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
