/** RELIABILITY row 27 and the api-key plugin: right, wrong and missing keys through the real gateway; keys never logged. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { ConfigError, formatIssue } from '../../../src/config/diagnostics.js';
import { Gateway } from '../../../src/server.js';
import { configDir, routeFile, startGateway } from '../../helpers/gateway.js';
import { startOrigin } from '../../helpers/upstream.js';

const KEY_A = 'ak_live_4f9d1c2b7e6a5d3c8b9a0f1e2d3c4b5a';
const KEY_B = 'short-key-b';
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

function route(id: string, cfg: Record<string, unknown>, extra = ''): string {
  return `  - id: ${id}\n    match: { path: /${id} }\n    upstream: { service: svc }\n    plugins:\n      - api-key: ${JSON.stringify(cfg)}\n${extra}`;
}

const KEYS = [
  { consumer: 'team-a', sha256: sha(KEY_A) },
  { consumer: 'team-b', sha256: sha(KEY_B).toUpperCase() },
];

async function setup(t: TestContext) {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [origin.url],
      route('k', { keys: KEYS }, '      - headers: { request: { set: { x-consumer: "{consumer}" } } }\n') +
        route('custom', { header: 'x-gateway-key', query: false, keys: KEYS, hideCredentials: false }) +
        route('queryonly', { header: false, query: 'key', keys: KEYS }),
    ),
  });
  t.after(() => gw.close());
  const send = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${gw.url}${path}`, { headers });
    const body = (await res.body.json()) as { code?: string; detail?: string };
    return { status: res.statusCode, headers: res.headers, body };
  };
  return { origin, send };
}

test('a right key in the header passes, names the consumer, and is not forwarded', async (t) => {
  const { origin, send } = await setup(t);
  assert.equal((await send('/k', { 'x-api-key': KEY_A, 'x-consumer': 'spoofed' })).status, 200);
  assert.equal((await send('/k', { 'x-api-key': KEY_B })).status, 200, 'stored hash in upper case hex matches too');
  assert.equal(origin.seen[0]!.headers['x-consumer'], 'team-a');
  assert.equal(origin.seen[1]!.headers['x-consumer'], 'team-b');
  assert.equal(origin.seen[0]!.headers['x-api-key'], undefined, 'hideCredentials defaults to true');
});

test('a right key in the query passes and is cut from the forwarded URL', async (t) => {
  const { origin, send } = await setup(t);
  assert.equal((await send(`/k?x=1&api_key=${encodeURIComponent(KEY_A)}`)).status, 200);
  assert.equal(origin.seen[0]!.url, '/k?x=1');
  assert.equal((await send(`/queryonly?key=${KEY_B}`)).status, 200);
  assert.equal(origin.seen[1]!.url, '/queryonly');
});

test('wrong keys of the same and of a different length, and a missing key, are 401 and reach nothing', async (t) => {
  const { origin, send } = await setup(t);
  const sameLength = KEY_A.slice(0, -1) + (KEY_A.endsWith('a') ? 'b' : 'a');
  for (const key of [sameLength, KEY_A.slice(1), `${KEY_A}x`, 'x', KEY_A.toUpperCase(), `${KEY_A}, ${KEY_B}`, 'k'.repeat(10000)]) {
    const res = await send('/k', { 'x-api-key': key });
    assert.equal(res.status, 401, key.slice(0, 20));
    assert.equal(res.body.detail, 'the API key is not valid');
    assert.equal(res.headers['www-authenticate'], 'ApiKey realm="gatehouse"');
  }
  const missing = await send('/k');
  assert.equal(missing.status, 401);
  assert.equal(missing.body.code, 'UNAUTHENTICATED');
  assert.match(missing.body.detail!, /x-api-key header or the api_key query parameter/);
  assert.equal(origin.seen.length, 0);
});

test('a custom header is read, the default one and the query are not; hideCredentials false forwards it', async (t) => {
  const { origin, send } = await setup(t);
  assert.equal((await send('/custom', { 'x-api-key': KEY_A })).status, 401);
  assert.equal((await send(`/custom?api_key=${KEY_A}`)).status, 401);
  assert.equal((await send('/custom', { 'x-gateway-key': KEY_A })).status, 200);
  assert.equal(origin.seen.length, 1);
  assert.equal(origin.seen[0]!.headers['x-gateway-key'], KEY_A);
  assert.equal(origin.seen[0]!.url, '/custom');
});

test('keys, right or wrong, never appear in the logs (access log at trace level included)', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const dir = await configDir({
    'gatehouse.yaml': 'admin: { enabled: false }\nlogging: { level: trace, accessLog: true }\n',
    'routes.d/a.yaml': routeFile([origin.url], route('k', { keys: KEYS })),
  });
  t.after(() => dir.cleanup());
  const gw = await Gateway.start({ configFile: dir.configFile, logger: pino({ level: 'trace' }, sink), port: 0, host: '127.0.0.1' });
  t.after(() => gw.close(500));
  const url = `http://127.0.0.1:${gw.address().port}`;
  const wrong = 'wrong-key-that-must-not-be-logged';
  for (const [path, headers] of [
    ['/k', { 'x-api-key': KEY_A }],
    ['/k', { 'x-api-key': wrong }],
    [`/k?api_key=${KEY_A}`, {}],
    [`/k?api_key=${wrong}`, {}],
  ] as [string, Record<string, string>][]) {
    const res = await request(`${url}${path}`, { headers });
    await res.body.dump();
  }
  const log = lines.join('');
  assert.match(log, /"msg":"request"/, 'access-log lines were written');
  assert.ok(!log.includes(KEY_A), 'the right key is not in the logs');
  assert.ok(!log.includes(wrong), 'the wrong key is not in the logs');
});

test('gatehouse hash-key prints the sha256 the plugin accepts', async (t) => {
  const printed = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'hash-key', KEY_A], { encoding: 'utf8' }).trim();
  assert.equal(printed, sha(KEY_A));
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], route('k', { keys: [{ consumer: 'c', sha256: printed }] })) });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/k`, { headers: { 'x-api-key': KEY_A } });
  await res.body.dump();
  assert.equal(res.statusCode, 200);
});

async function loadErrors(t: TestContext, cfg: Record<string, unknown>): Promise<string[]> {
  const dir = await configDir({ 'routes.d/a.yaml': routeFile(['http://127.0.0.1:9'], route('k', cfg)) });
  t.after(() => dir.cleanup());
  try {
    const gw = await Gateway.start({ configFile: dir.configFile, logger: pino({ level: 'silent' }), port: 0, host: '127.0.0.1' });
    await gw.close(100);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map(formatIssue);
  }
  assert.fail('the config loaded');
}

test('load refuses a hash that is not 64 hex digits, two consumers with one hash, no keys, and no place to read the key', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ keys: [{ consumer: 'a', sha256: 'abc' }] }, /a\.yaml:\d+:\d+ routes\[0\]\.plugins\[0\]\.api-key\.keys\[0\]\.sha256: must be 64 hex digits/],
    [{ keys: [{ consumer: 'a', sha256: sha('x') }, { consumer: 'b', sha256: sha('x') }] }, /a\.yaml:\d+:\d+ plugin api-key \(route k\): keys: the consumers a and b share one key hash/],
    [{ keys: [] }, /api-key\.keys: must list at least 1 item/],
    [{ header: false, query: false, keys: KEYS }, /header and query are both false/],
  ];
  for (const [cfg, expected] of cases) {
    const errors = await loadErrors(t, cfg);
    assert.ok(errors.some((e) => expected.test(e)), errors.join('\n'));
  }
});
