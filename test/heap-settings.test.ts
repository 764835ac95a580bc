import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { HEAP_GROWING_PERCENT, heapGrowthFlag, STARTUP_FLAGS } from '../src/heap-settings.js';

const ROOT = path.resolve(import.meta.dirname, '..');

test('the heap growth is set unless the user chose one, on the command line or in NODE_OPTIONS', () => {
  assert.equal(heapGrowthFlag([], undefined), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(heapGrowthFlag(['--max-semi-space-size=8'], '--max-old-space-size=512'), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(heapGrowthFlag(['--heap-growing-percent=0'], undefined), undefined);
  assert.equal(heapGrowthFlag([], '--enable-source-maps --heap_growing_percent=80'), undefined);
});

test('npm start and the Docker image start node with the startup flags', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${STARTUP_FLAGS.join(' ')} dist/cli.js start`);
  const entrypoint = /^ENTRYPOINT (.+)$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  assert.deepEqual(JSON.parse(entrypoint ?? '[]'), ['node', ...STARTUP_FLAGS, 'dist/cli.js']);
});
