import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { Gateway } from '../../../src/server.js';
import { configDir, routeFile, silent, startGateway } from '../../helpers/gateway.js';
import { startOrigin } from '../../helpers/upstream.js';

const route = (filter: string) => `  - id: api\n    match: { path: /api/* }\n    upstream: { service: svc }\n    plugins:\n      - ip-filter: ${filter}\n`;

async function status(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, code: res.statusCode === 403 ? (JSON.parse(text) as { code: string }).code : undefined };
}

test('deny lists refuse with 403 FORBIDDEN; spoofed X-Forwarded-For from an untrusted peer changes nothing', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route('{ deny: [127.0.0.0/8] }')) });
  t.after(() => gw.close());
  assert.deepEqual(await status(`${gw.url}/api/x`), { status: 403, code: 'FORBIDDEN' });
  assert.deepEqual(await status(`${gw.url}/api/x`, { 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9' }), { status: 403, code: 'FORBIDDEN' });
  assert.equal(origin.seen.length, 0);
});

test('allow lists admit only their ranges; spoofing an allowed address does not get in', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route('{ allow: [10.0.0.0/8, "2001:db8::/32"] }')) });
  t.after(() => gw.close());
  assert.equal((await status(`${gw.url}/api/x`)).status, 403);
  assert.equal((await status(`${gw.url}/api/x`, { 'x-forwarded-for': '10.1.2.3' })).status, 403);
});

test('with trustProxy, the forwarded client address is filtered, IPv4 and IPv6', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { trustProxy: [127.0.0.1/32] }\n',
    'routes.d/a.yaml': routeFile([origin.url], route('{ allow: [10.0.0.0/8, "2001:db8::/32"], deny: [10.9.0.0/16, "2001:db8:bad::/48"] }')),
  });
  t.after(() => gw.close());
  const s = async (xff: string) => (await status(`${gw.url}/api/x`, { 'x-forwarded-for': xff })).status;
  assert.equal(await s('10.1.2.3'), 200);
  assert.equal(await s('10.9.1.1'), 403, 'deny wins over allow');
  assert.equal(await s('192.0.2.1'), 403);
  assert.equal(await s('2001:db8:1::5'), 200);
  assert.equal(await s('2001:db8:bad::5'), 403);
  assert.equal(await s('2001:dead::1'), 403);
});

test('an IPv6 socket peer (::1) is matched against IPv6 ranges', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const run = async (filter: string) => {
    const dir = await configDir({ 'routes.d/a.yaml': routeFile([origin.url], route(filter)) });
    const gw = await Gateway.start({ configFile: dir.configFile, logger: silent, port: 0, host: '::1' });
    t.after(async () => {
      await gw.close(1000);
      await dir.cleanup();
    });
    return (await status(`http://[::1]:${gw.address().port}/api/x`)).status;
  };
  assert.equal(await run('{ allow: ["::1/128"] }'), 200);
  assert.equal(await run('{ deny: ["::/0"] }'), 403);
  assert.equal(await run('{ allow: [127.0.0.1] }'), 403);
});

test('an address that is not a CIDR is an error at load', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  await assert.rejects(startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route('{ allow: [10.0.0.0/33] }')) }), /prefix length outside 0-32/);
  await assert.rejects(startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route('{ deny: [example.com] }')) }), (err: Error & { issues?: unknown }) =>
    /must be an IPv4 or IPv6 address or CIDR/.test(JSON.stringify(err.issues)),
  );
});
