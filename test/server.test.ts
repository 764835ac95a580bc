import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/load.js';
import { Gateway } from '../src/server.js';
import { configDir, routeFile, silent, startGateway } from './helpers/gateway.js';
import { selfSignedCert } from './helpers/tls.js';
import { startOrigin } from './helpers/upstream.js';

const ALL = `  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`;

test('a client that sends its headers too slowly is cut off with 408', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { timeouts: { headers: 400ms, request: 2s } }\n',
    'routes.d/a.yaml': routeFile([origin.url], ALL),
  });
  t.after(() => gw.close());
  const socket = net.connect(gw.gateway.address().port, '127.0.0.1');
  let got = '';
  socket.on('data', (d) => (got += d.toString()));
  socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
  const trickle = setInterval(() => socket.writable && socket.write('x-drip: 1\r\n'), 100);
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  clearInterval(trickle);
  assert.match(got, /^HTTP\/1\.1 408 /);
  assert.match(got, /REQUEST_TIMEOUT/);
  assert.equal(origin.seen.length, 0);
});

test('server.tls terminates TLS and tells the upstream the request was https', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const { cert, key } = selfSignedCert();
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { tls: { cert: ./tls/cert.pem, key: ./tls/key.pem } }\n',
    'tls/cert.pem': cert,
    'tls/key.pem': key,
    'routes.d/a.yaml': routeFile([origin.url], ALL),
  });
  t.after(() => gw.close());
  const dispatcher = new Agent({ connect: { ca: cert } });
  t.after(() => dispatcher.close());
  const res = await request(`https://localhost:${gw.gateway.address().port}/secure`, { dispatcher });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  assert.equal(origin.seen[0]!.headers['x-forwarded-proto'], 'https');
});

test('a missing TLS file is a config error at the key', async (t) => {
  const { configDir } = await import('./helpers/gateway.js');
  const { loadConfig } = await import('../src/config/load.js');
  const dir = await configDir({ 'gatehouse.yaml': 'server:\n  tls: { cert: ./nope.pem, key: ./nope.key }\n' });
  t.after(() => dir.cleanup());
  await assert.rejects(loadConfig({ configFile: dir.configFile }), (err: Error) => {
    assert.match(err.message, /gatehouse\.yaml:2:10 server\.tls\.cert: cannot read .*nope\.pem: ENOENT/);
    return true;
  });
});

test('a reload swaps routes without a restart and keeps serving the old ones when the new config is invalid', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], `  - id: one\n    match: { path: /one }\n    upstream: { service: svc }\n`) });
  t.after(() => gw.close());
  assert.equal((await request(`${gw.url}/two`)).statusCode, 404);
  await gw.dir.write('routes.d/a.yaml', routeFile([origin.url], `  - id: two\n    match: { path: /two }\n    upstream: { service: svc }\n`));
  assert.deepEqual(await gw.gateway.reload(), { ok: true, generation: 2 });
  const two = await request(`${gw.url}/two`);
  assert.equal(two.statusCode, 200);
  await two.body.dump();
  await gw.dir.write('routes.d/a.yaml', routeFile([origin.url], `  - id: three\n    match: { path: /three }\n    upstream: { service: nope }\n`));
  const bad = await gw.gateway.reload();
  assert.equal(bad.ok, false);
  assert.match(JSON.stringify(bad), /routes\.d\/a\.yaml:8:17 routes\[0\]\.upstream\.service: unknown service \\"nope\\"/);
  const still = await request(`${gw.url}/two`);
  assert.equal(still.statusCode, 200);
  await still.body.dump();
});

test('start serves a config loaded already (the CLI reads the worker count from it) without reading the files again', async (t) => {
  const origin = await startOrigin((_req, res) => res.end('loaded once'));
  t.after(() => origin.close());
  const dir = await configDir({ 'routes.d/a.yaml': routeFile([origin.url], '  - id: r\n    match: { path: /r }\n    upstream: { service: svc }\n') });
  t.after(() => dir.cleanup());
  const snapshot = await loadConfig({ configFile: dir.configFile });
  // Files that would no longer load: start does not read them.
  await dir.write('routes.d/a.yaml', 'routes: [ broken');
  const gateway = await Gateway.start({ configFile: dir.configFile, logger: silent, port: 0, host: '127.0.0.1', snapshot });
  t.after(() => gateway.close(1000));
  assert.equal(gateway.snapshot(), snapshot);
  const res = await request(`http://127.0.0.1:${gateway.address().port}/r`);
  assert.equal(await res.body.text(), 'loaded once');
});
