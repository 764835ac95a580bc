/** RELIABILITY row 26 and the oauth2 plugin: a real introspection server, client credentials, caching, failures that never let through. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import { ConfigError, formatIssue } from '../../../src/config/diagnostics.js';
import { Gateway } from '../../../src/server.js';
import { configDir, routeFile, silent, startGateway } from '../../helpers/gateway.js';
import { startIntrospectionServer, type IntrospectionServer } from '../../helpers/idp.js';
import { nowSeconds } from '../../helpers/jwt.js';
import { startOrigin } from '../../helpers/upstream.js';

const ACTIVE = { active: true, client_id: 'mobile-app', sub: 'u-1', scope: 'orders:read profile' };

function routes(idp: IntrospectionServer, entries: Record<string, Record<string, unknown>>, extra: Record<string, string> = {}): string {
  return Object.entries(entries)
    .map(
      ([id, cfg]) =>
        `  - id: ${id}\n    match: { path: /${id} }\n    upstream: { service: svc }\n    plugins:\n      - oauth2: ${JSON.stringify({ introspectionUrl: idp.url, clientId: 'gateway', clientSecret: 's3cr:et', ...cfg })}\n${extra[id] ?? ''}`,
    )
    .join('');
}

async function setup(t: TestContext, answer: IntrospectionServer['answer'], entries: Record<string, Record<string, unknown>>, extra?: Record<string, string>) {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const idp = await startIntrospectionServer(answer);
  t.after(() => idp.close());
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], routes(idp, entries, extra)) });
  t.after(() => gw.close());
  const send = async (path: string, token?: string) => {
    const res = await request(`${gw.url}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    const body = (await res.body.json()) as { code?: string; detail?: string; headers?: Record<string, string> };
    return { status: res.statusCode, headers: res.headers, body };
  };
  return { origin, idp, gw, send };
}

test('an active token passes; the call is RFC 7662 POST token=... with Basic client credentials', async (t) => {
  const { origin, idp, send } = await setup(t, (tok) => (tok === 'good' ? ACTIVE : { active: false }), { r: {} });
  const res = await send('/r', 'good');
  assert.equal(res.status, 200);
  assert.equal(origin.seen.length, 1);
  const call = idp.calls[0]!;
  assert.equal(call.contentType, 'application/x-www-form-urlencoded');
  assert.equal(call.form.get('token'), 'good');
  assert.equal(call.form.get('token_type_hint'), 'access_token');
  assert.equal(call.form.get('client_secret'), null);
  assert.equal(call.authorization, `Basic ${Buffer.from('gateway:s3cr%3Aet').toString('base64')}`);
});

test('authMethod post sends client_id and client_secret in the form and no Authorization', async (t) => {
  const { idp, send } = await setup(t, () => ACTIVE, { r: { authMethod: 'post' } });
  assert.equal((await send('/r', 'good')).status, 200);
  const call = idp.calls[0]!;
  assert.equal(call.authorization, undefined);
  assert.equal(call.form.get('client_id'), 'gateway');
  assert.equal(call.form.get('client_secret'), 's3cr:et');
});

test('an inactive token is 401 and the inactive answer is cached briefly', async (t) => {
  const { origin, idp, send } = await setup(t, () => ({ active: false }), { r: { inactiveCacheTtl: '1h' } });
  for (let i = 0; i < 5; i++) {
    const res = await send('/r', 'revoked');
    assert.equal(res.status, 401);
    assert.equal(res.body.detail, 'the token is not active');
    assert.match(String(res.headers['www-authenticate']), /^Bearer realm="gatehouse", error="invalid_token"/);
  }
  assert.equal(idp.calls.length, 1, 'asked once, then cached');
  assert.equal(origin.seen.length, 0);
});

test('an inactive answer expires from the cache after inactiveCacheTtl', async (t) => {
  let active = false;
  const { idp, send } = await setup(t, () => (active ? ACTIVE : { active: false }), { r: { inactiveCacheTtl: '200ms' } });
  assert.equal((await send('/r', 'tok')).status, 401);
  active = true;
  await sleep(300);
  assert.equal((await send('/r', 'tok')).status, 200);
  assert.equal(idp.calls.length, 2);
});

test('active answers are cached up to cacheTtl', async (t) => {
  const { idp, send } = await setup(t, () => ACTIVE, { r: { cacheTtl: '1h' } });
  for (let i = 0; i < 5; i++) assert.equal((await send('/r', 'tok')).status, 200);
  assert.equal(idp.calls.length, 1);
});

test("an active answer is cached no longer than the token's exp, and an expired one is refused", async (t) => {
  let exp = 0;
  const { origin, idp, send } = await setup(t, () => ({ ...ACTIVE, exp }), { r: { cacheTtl: '1h' } });
  exp = nowSeconds() + 2; // at least one whole second left
  assert.equal((await send('/r', 'tok')).status, 200);
  await sleep(Math.max(0, exp * 1000 - Date.now()) + 100);
  const res = await send('/r', 'tok');
  assert.equal(res.status, 401, 'past exp: asked again, and the server still says active with a past exp');
  assert.equal(res.body.detail, 'the token has expired');
  assert.equal(idp.calls.length, 2);
  assert.equal(origin.seen.length, 1);
});

test('introspection 5xx, timeout, refused connection or garbage: 503 with onError unavailable, 401 with deny, never through', async (t) => {
  let mode: number | 'hang' | 'garbage' = 500;
  const { origin, idp, send } = await setup(
    t,
    () => (mode === 'garbage' ? ({ hello: 'world' } as Record<string, unknown>) : mode),
    { unavail: { timeout: '200ms' }, deny: { timeout: '200ms', onError: 'deny' } },
  );
  for (const m of [500, 503, 401, 'hang', 'garbage'] as const) {
    mode = m;
    const u = await send('/unavail', `t-${m}`);
    assert.equal(u.status, 503, `unavailable ${m}`);
    assert.equal(u.body.code, 'UPSTREAM_UNAVAILABLE');
    const d = await send('/deny', `t-${m}`);
    assert.equal(d.status, 401, `deny ${m}`);
    assert.equal(d.body.detail, 'the token could not be checked');
  }
  assert.equal(origin.seen.length, 0);
  const calls = idp.calls.length;
  mode = 500;
  assert.equal((await send('/unavail', 't-500')).status, 503);
  assert.equal(idp.calls.length, calls + 1, 'failures are not cached');
  await idp.close();
  assert.equal((await send('/unavail', 'refused')).status, 503);
  assert.equal((await send('/deny', 'refused')).status, 401);
  assert.equal(origin.seen.length, 0);
});

test('concurrent requests with one token share one introspection call', async (t) => {
  const { idp, send } = await setup(t, () => ACTIVE, { r: {} });
  const all = await Promise.all(Array.from({ length: 20 }, () => send('/r', 'same')));
  assert.ok(all.every((r) => r.status === 200));
  assert.equal(idp.calls.length, 1);
});

test('missing scopes are 403; the scope string grants', async (t) => {
  const { origin, send } = await setup(t, () => ACTIVE, { read: { scopes: ['orders:read'] }, write: { scopes: ['orders:read', 'orders:write'] } });
  assert.equal((await send('/read', 'tok')).status, 200);
  const res = await send('/write', 'tok');
  assert.equal(res.status, 403);
  assert.equal(res.body.code, 'FORBIDDEN');
  assert.match(String(res.headers['www-authenticate']), /error="insufficient_scope"/);
  assert.equal(origin.seen.length, 1);
});

test('no token is 401 without calling the endpoint', async (t) => {
  const { idp, send } = await setup(t, () => ACTIVE, { r: {} });
  const res = await send('/r');
  assert.equal(res.status, 401);
  assert.equal(res.headers['www-authenticate'], 'Bearer realm="gatehouse"');
  assert.equal(idp.calls.length, 0);
});

test('the answer feeds {jwt.*} and {consumer} (client_id by default) and forward headers', async (t) => {
  const { origin, send } = await setup(t, () => ACTIVE, { r: { forward: { 'x-subject': 'sub' } } }, { r: '      - headers: { request: { set: { x-consumer: "{consumer}", x-scope: "{jwt.scope}" } } }\n' });
  assert.equal((await send('/r', 'tok')).status, 200);
  const h = origin.seen[0]!.headers;
  assert.equal(h['x-consumer'], 'mobile-app');
  assert.equal(h['x-subject'], 'u-1');
  assert.equal(h['x-scope'], 'orders:read profile');
});

test('load refuses an oauth2 block without introspectionUrl, with a bad authMethod or onError', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ clientId: 'a', clientSecret: 'b' }, /a\.yaml:\d+:\d+ routes\[0\]\.plugins\[0\]\.oauth2\.introspectionUrl: is required/],
    [{ introspectionUrl: 'http://idp/i', clientId: 'a', clientSecret: 'b', authMethod: 'jwt' }, /oauth2\.authMethod: must be basic or post/],
    [{ introspectionUrl: 'http://idp/i', clientId: 'a', clientSecret: 'b', onError: 'allow' }, /oauth2\.onError: must be unavailable or deny/],
  ];
  for (const [cfg, expected] of cases) {
    const dir = await configDir({ 'routes.d/a.yaml': routeFile(['http://127.0.0.1:9'], `  - id: r\n    match: { path: /r }\n    upstream: { service: svc }\n    plugins:\n      - oauth2: ${JSON.stringify(cfg)}\n`) });
    t.after(() => dir.cleanup());
    const err = await Gateway.start({ configFile: dir.configFile, logger: silent, port: 0, host: '127.0.0.1' }).then(
      (gw) => gw.close(100).then(() => undefined),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, String(err));
    const lines = err.issues.map(formatIssue);
    assert.ok(lines.some((l) => expected.test(l)), lines.join('\n'));
  }
});
