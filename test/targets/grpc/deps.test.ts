import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { configDir } from '../../helpers/gateway.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PROTO = path.join(ROOT, 'test/fixtures/protos/inventory.proto');

/**
 * Starts the built gateway (dist, as `gatehouse start` runs it) in a plain node process on
 * `configFile`, serves one request, and answers which of grpc-js and protobufjs that process
 * loaded (both are CommonJS, so they are in the require cache once loaded).
 */
function loadedBy(configFile: string, requestPath: string): { status: number; grpcJs: boolean; protobufJs: boolean } {
  const script = `
    const { createRequire } = await import('node:module');
    const { Gateway } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/index.js')).href)});
    const { createLogger } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/logger.js')).href)});
    const gw = await Gateway.start({ configFile: ${JSON.stringify(configFile)}, logger: createLogger('silent'), port: 0, host: '127.0.0.1' });
    const res = await fetch('http://127.0.0.1:' + gw.address().port + ${JSON.stringify(requestPath)});
    await res.arrayBuffer();
    await gw.close();
    const cached = Object.keys(createRequire(import.meta.url).cache);
    const has = (pkg) => cached.some((f) => f.includes('/node_modules/' + pkg + '/'));
    console.log(JSON.stringify({ status: res.status, grpcJs: has('@grpc/grpc-js'), protobufJs: has('protobufjs') }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { status: number; grpcJs: boolean; protobufJs: boolean };
}

test('a gateway with no gRPC in its config never loads grpc-js or protobufjs', async (t) => {
  const cfg = await configDir({
    'routes.d/plain.yaml': 'services:\n  origin:\n    discovery: { static: ["http://127.0.0.1:9"] }\nroutes:\n  - id: plain\n    match: { path: /plain }\n    upstream: { service: origin }\n',
  });
  t.after(() => rm(cfg.dir, { recursive: true, force: true }));
  // Port 9 refuses: the request is answered (503) without any gRPC part being needed.
  assert.deepEqual(loadedBy(cfg.configFile, '/plain'), { status: 503, grpcJs: false, protobufJs: false });
});

test('a gateway with a REST -> gRPC route loads protobufjs only: its calls go out on node:http2, not grpc-js', async (t) => {
  const cfg = await configDir({
    'routes.d/grpc.yaml':
      'services:\n  inventory:\n    protocol: grpc\n    discovery: { static: ["grpc://127.0.0.1:9"] }\n' +
      `routes:\n  - id: item\n    match: { path: /items/:sku, methods: [GET] }\n    grpc: { service: inventory, proto: ${JSON.stringify(PROTO)}, method: shop.v1.Inventory/GetItem }\n`,
  });
  t.after(() => rm(cfg.dir, { recursive: true, force: true }));
  // No server on port 9: the call is UNAVAILABLE, which the gateway maps to 503.
  assert.deepEqual(loadedBy(cfg.configFile, '/items/sku-1'), { status: 503, grpcJs: false, protobufJs: true });
});
