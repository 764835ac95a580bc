import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { applyHeapSettings, HEAP_GROWING_PERCENT, heapGrowthFlag, heapHeldTight, holdHeapTight, STARTUP_FLAGS } from '../src/heap-settings.js';
import { routeFile, startGateway } from './helpers/gateway.js';
import { startOrigin } from './helpers/upstream.js';
import { waitUntil } from './helpers/wait-until.js';

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

test('a hold on the heap does nothing unless the CLI chose the growth (library users keep their own)', () => {
  const release = holdHeapTight();
  assert.equal(heapHeldTight(), false);
  release();
});

test('holds nest: the usual growth comes back when the last one ends, or when one outlives its limit', async () => {
  applyHeapSettings();
  const first = holdHeapTight();
  const second = holdHeapTight();
  assert.equal(heapHeldTight(), true);
  first();
  first(); // a second call is no second release
  assert.equal(heapHeldTight(), true);
  second();
  assert.equal(heapHeldTight(), false);
  holdHeapTight(20);
  assert.equal(heapHeldTight(), true);
  await waitUntil(() => !heapHeldTight(), 'the hold to end at its limit');
});

test('a reload holds the heap tight until the generation it replaced is retired', async (t) => {
  applyHeapSettings();
  let finish: (() => void) | undefined;
  const origin = await startOrigin((req, res) => {
    if (req.url === '/slow') finish = () => res.end('late');
    else res.end('ok');
  });
  const gw = await startGateway({ 'routes.d/r.yaml': routeFile([origin.url], '  - id: r\n    match: { path: /* }\n    upstream: { service: svc }\n') });
  t.after(async () => {
    await gw.close();
    await origin.close();
  });
  assert.equal(heapHeldTight(), false, 'start releases its hold once listening');
  // A request in flight keeps the first generation alive across the reload.
  const slow = fetch(`${gw.url}/slow`).then((r) => r.text());
  await waitUntil(() => finish !== undefined, 'the slow request to reach the origin');
  const result = await gw.gateway.reload();
  assert.equal(result.ok, true);
  assert.equal(heapHeldTight(), true, 'the old generation still serves a request');
  finish!();
  assert.equal(await slow, 'late');
  await waitUntil(() => !heapHeldTight(), 'the hold to end once the old generation retired');
  // A rejected reload releases its hold at once.
  await gw.dir.write('routes.d/r.yaml', 'routes: [');
  assert.equal((await gw.gateway.reload()).ok, false);
  assert.equal(heapHeldTight(), false);
});
