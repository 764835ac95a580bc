import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ConfigError, formatIssue } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/load.js';
import { configDir } from '../helpers/gateway.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const PLUGIN = `import { definePlugin, Type } from 'gatehouse';
import { label } from './lib/label.ts';

interface Options { suffix: string }
const opts: Options = { suffix: '!' };

export default definePlugin({
  name: 'ts-labelled',
  config: Type.Object({}),
  create() {
    return { onRequest: async () => undefined, label: label('x') + opts.suffix };
  },
});
`;
const HELPER = `export function label(s: string): string { return \`<\${s}>\`; }\n`;

test('a TypeScript plugin and its relative .ts imports load in a plain node process, with no loader left installed and no file left behind', async (t) => {
  const dir = await mkdtemp(path.join(ROOT, '.tmp-ts-plugin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'lib'));
  await writeFile(path.join(dir, 'labelled.ts'), PLUGIN);
  await writeFile(path.join(dir, 'lib/label.ts'), HELPER);
  // The built gateway, as `gatehouse start` runs it: no tsx in this process.
  const script = `
    const { loadRegistry } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/plugins/registry.js')).href)});
    const issues = [];
    const reg = await loadRegistry(${JSON.stringify(dir)}, issues);
    const def = reg.get('ts-labelled');
    const again = await loadRegistry(${JSON.stringify(dir)}, []);
    let direct;
    try { await import(${JSON.stringify(pathToFileURL(path.join(dir, 'lib/label.ts')).href)}); direct = 'loaded'; }
    catch (e) { direct = e.code; }
    // Child processes left running (esbuild's service is one while it compiles). Stopping it
    // signals it and does not wait: it is gone once it has exited and been reaped.
    const { readFileSync } = await import('node:fs');
    const kids = () => readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim();
    for (let i = 0; i < 100 && kids() !== ''; i++) await new Promise((r) => setTimeout(r, 50));
    const children = kids();
    console.log(JSON.stringify({ issues, found: def !== undefined, label: def?.create({}, {}).label, same: again.get('ts-labelled') === def, direct, children }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), {
    issues: [],
    found: true,
    label: '<x>!',
    // A second load (a reload) gets the same definition, as Node's module cache would give.
    same: true,
    // TypeScript was compiled for the plugin only: the process has no .ts loader of its own.
    direct: 'ERR_UNKNOWN_FILE_EXTENSION',
    // The compiler's process is stopped once the plugins are loaded.
    children: '',
  });
  assert.deepEqual((await readdir(dir)).sort(), ['labelled.ts', 'lib']);
});

test('a TypeScript plugin that does not compile is reported at its FILE:LINE:COL', async (t) => {
  const dir = await configDir(
    {
      'plugins/bad.ts': `import { definePlugin } from 'gatehouse';\n\nexport default definePlugin({\n  name: 'bad',\n  create() { return {} ) },\n});\n`,
      'plugins/missing.ts': `import { x } from './nowhere.ts';\nexport default x;\n`,
    },
    { inProject: true },
  );
  t.after(() => dir.cleanup());
  const err = await loadConfig({ configFile: dir.configFile }).catch((e: unknown) => e);
  assert.ok(err instanceof ConfigError);
  const lines = err.issues.map((i) => formatIssue(i).replace(/^.*plugins\//, 'plugins/'));
  assert.deepEqual(lines, [
    'plugins/bad.ts:5:24 cannot load plugin: Expected ";" but found ")"',
    'plugins/missing.ts:1:19 cannot load plugin: Could not resolve "./nowhere.ts"',
  ]);
  const left = await readdir(path.join(path.dirname(dir.configFile), 'plugins'));
  assert.deepEqual(left.sort(), ['bad.ts', 'missing.ts']);
});

test('the temp-file name is never picked up as a plugin of its own', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-ts-'));
  try {
    await writeFile(path.join(dir, '.stale.ts.1-1.mjs'), 'export default 1;\n');
    const script = `
      const { loadRegistry } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/plugins/registry.js')).href)});
      const issues = [];
      await loadRegistry(${JSON.stringify(dir)}, issues);
      console.log(JSON.stringify(issues));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '[]');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('files outside the plugin directory are imported, not copied: a shared module stays one instance, and a .ts one still loads', async (t) => {
  const root = await mkdtemp(path.join(ROOT, '.tmp-ts-plugin-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = path.join(root, 'plugins');
  await mkdir(dir);
  await writeFile(path.join(root, 'shared.mjs'), 'export const registry = { hits: 0 };\n');
  await writeFile(path.join(root, 'util.ts'), 'export const twice = (n: number): number => n * 2;\n');
  await writeFile(
    path.join(dir, 'shared.ts'),
    `import { definePlugin, Type } from 'gatehouse';\nimport { registry } from '../shared.mjs';\n` +
      `export default definePlugin({ name: 'shared', config: Type.Object({}), create() { registry.hits++; return {}; } });\n`,
  );
  await writeFile(
    path.join(root, 'with-ts.ts'),
    `import { definePlugin, Type } from 'gatehouse';\nimport { twice } from './util.ts';\n` +
      `export default definePlugin({ name: 'with-ts', config: Type.Object({}), create() { return { n: twice(21) }; } });\n`,
  );
  const other = path.join(root, 'other');
  await mkdir(other);
  await writeFile(path.join(other, 'with-ts.ts'), `export { default } from '../with-ts.ts';\n`);
  const registryJs = pathToFileURL(path.join(ROOT, 'dist/plugins/registry.js')).href;
  const script = `
    const { loadRegistry } = await import(${JSON.stringify(registryJs)});
    const { registry } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'shared.mjs')).href)});
    const issues = [];
    const reg = await loadRegistry(${JSON.stringify(dir)}, issues);
    reg.get('shared').create({}, {});
    const withTs = await loadRegistry(${JSON.stringify(other)}, issues);
    console.log(JSON.stringify({ issues, hits: registry.hits, n: withTs.get('with-ts')?.create({}, {}).n }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { issues: [], hits: 1, n: 42 });
});

test('a plugin whose directory cannot be written loads through tsx instead', async (t) => {
  const dir = await mkdtemp(path.join(ROOT, '.tmp-ts-plugin-'));
  t.after(async () => {
    await chmod(dir, 0o755);
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(path.join(dir, 'labelled.ts'), PLUGIN.replace("import { label } from './lib/label.ts';\n", '').replace("label('x')", "'<x>'"));
  await chmod(dir, 0o555);
  const script = `
    const { loadRegistry } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/plugins/registry.js')).href)});
    const issues = [];
    const reg = await loadRegistry(${JSON.stringify(dir)}, issues);
    let direct;
    try { await import(${JSON.stringify(pathToFileURL(path.join(dir, 'labelled.ts')).href)}); direct = 'loaded'; }
    catch (e) { direct = e.code; }
    console.log(JSON.stringify({ issues, label: reg.get('ts-labelled')?.create({}, {}).label, direct }));
  `;
  // Root writes anywhere, so as root the process runs as nobody; otherwise the 0555 mode is enough.
  const asRoot = process.getuid?.() === 0;
  const [cmd, args] = asRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script]]
    : [process.execPath, ['--input-type=module', '-e', script]];
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', HOME: os.tmpdir() } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), {
    issues: [],
    label: '<x>!',
    // tsx's loader is what loaded it: a .ts file now imports in this process too.
    direct: 'loaded',
  });
  assert.deepEqual(await readdir(dir), ['labelled.ts']);
});
