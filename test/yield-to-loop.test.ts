import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { yielder } from '../src/yield-to-loop.js';
import { routeFile, startGateway } from './helpers/gateway.js';
import { startOrigin } from './helpers/upstream.js';

const srcUrl = (rel: string) => new URL(`../src/${rel}`, import.meta.url).href;

test('yielder gives the event loop a turn every N calls and none in between', async () => {
  let ran = false;
  setImmediate(() => (ran = true));
  const pause = yielder(3);
  const results = [pause(), pause(), pause(), pause(), pause(), pause()];
  assert.deepEqual(results.map((r) => r instanceof Promise), [false, false, true, false, false, true]);
  assert.equal(ran, false);
  await results[2];
  assert.equal(ran, true, 'a setImmediate queued before the pause ran during it');
});

// A plugin that, while the next generation is being built, asks the running one a question.
const PROBE_PLUGIN = `
import { definePlugin, Type } from ${JSON.stringify(srcUrl('index.ts'))};
export default definePlugin({
  name: 'probe',
  config: Type.Object({}),
  create(_config, ctx) {
    if (ctx.route.id === 'r100') globalThis.__gatehouseBuildProbe?.();
    return null;
  },
});
`;

test('a reload of many routes keeps answering requests while it builds', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const one = `  - id: ping\n    match: { path: /ping }\n    upstream: { service: svc }\n`;
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], one), 'plugins/probe.ts': PROBE_PLUGIN });
  t.after(() => gw.close());

  // Warm keep-alive connections (client to gateway, gateway to origin), as under steady traffic.
  await (await request(`${gw.url}/ping`)).body.dump();
  let many = one;
  for (let i = 0; i < 1500; i++) many += `  - id: r${i}\n    match: { path: /r${i}/:id }\n    upstream: { service: svc }\n    plugins: [ probe ]\n`;
  await writeFile(path.join(gw.dir.dir, 'routes.d/a.yaml'), routeFile([origin.url], many));

  const events: string[] = [];
  let answered: Promise<void> | undefined;
  (globalThis as { __gatehouseBuildProbe?: () => void }).__gatehouseBuildProbe = () => {
    events.push('build in progress');
    answered = request(`${gw.url}/ping`).then(async (res) => {
      await res.body.dump();
      events.push(`answered ${res.statusCode}`);
    });
  };
  t.after(() => delete (globalThis as { __gatehouseBuildProbe?: () => void }).__gatehouseBuildProbe);

  const result = await gw.gateway.reload();
  events.push('reload done');
  assert.equal(result.ok, true);
  await answered;
  assert.deepEqual(events, ['build in progress', 'answered 200', 'reload done']);
  assert.equal(gw.gateway.snapshot().routes.length, 1501);
});
