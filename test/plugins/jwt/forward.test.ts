/** Claims reach later plugins and the upstream: `{jwt.*}`/`{consumer}` templates, `forward`, hideCredentials, cookie and query tokens. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { mint } from '../../helpers/jwt.js';
import { startOrigin } from '../../helpers/upstream.js';
import { jwtRoutes } from './routes.js';

const SECRET = 'a-test-secret-that-is-32-bytes-long!!';
const token = mint({ sub: 'alice', org: { id: 'o-7' }, roles: ['a', 'b'], client: 'cli-1', name: 'Zoë 😀\r\nx-evil: 1' }, { alg: 'HS256', key: SECRET });

/** A raw request, so duplicate and oddly cased headers reach the gateway as sent. */
function raw(url: string, path: string, headers: [string, string][]): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method: 'GET', headers: ['host', u.host, ...headers.flat()] as unknown as http.OutgoingHttpHeaders });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

async function setup(t: TestContext) {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile(
      [origin.url],
      jwtRoutes(
        {
          fwd: { secret: SECRET, forward: { 'X-User-Id': 'sub', 'x-org': 'org.id', 'x-roles': 'roles', 'x-missing': 'nope', 'x-name': 'name' } },
          tpl: { secret: SECRET, consumerClaim: 'client' },
          hide: { secret: SECRET, hideCredentials: true },
          keep: { secret: SECRET },
          cookie: { secret: SECRET, cookie: 'session', hideCredentials: true },
          query: { secret: SECRET, query: 'access_token' },
        },
        { tpl: `      - headers: { request: { set: { x-user: "{jwt.sub}", x-consumer: "{consumer}", x-org: "{jwt.org.id}" } } }\n` },
      ),
    ),
  });
  t.after(() => gw.close());
  return { origin, gw };
}

test('forward sets each header from its claim as exactly one line, replacing client copies, and removes it when the claim is absent', async (t) => {
  const { origin, gw } = await setup(t);
  const status = await raw(gw.url, '/fwd', [
    ['Authorization', `Bearer ${token}`],
    ['x-user-id', 'mallory'],
    ['X-USER-ID', 'root'],
    ['x-missing', 'spoofed'],
    ['Connection', 'keep-alive, X-User-Id, x-org'],
  ]);
  assert.equal(status, 200);
  const h = origin.seen[0]!.headers;
  assert.equal(h['x-user-id'], 'alice');
  assert.equal(h['x-org'], 'o-7');
  assert.equal(h['x-roles'], 'a,b');
  assert.equal(h['x-missing'], undefined);
  assert.equal(Buffer.from(h['x-name'] as string, 'latin1').toString('utf8'), 'Zoë 😀x-evil: 1', 'UTF-8 bytes, control characters dropped');
  assert.equal(h['x-evil'], undefined);
  assert.equal(h.authorization, `Bearer ${token}`, 'Authorization is forwarded by default');
});

test('verified claims and the consumer feed the headers plugin templates', async (t) => {
  const { origin, gw } = await setup(t);
  assert.equal(await raw(gw.url, '/tpl', [['authorization', `Bearer ${token}`], ['x-consumer', 'spoofed']]), 200);
  const h = origin.seen[0]!.headers;
  assert.equal(h['x-user'], 'alice');
  assert.equal(h['x-consumer'], 'cli-1', 'consumerClaim picks the consumer');
  assert.equal(h['x-org'], 'o-7');
});

test('hideCredentials removes Authorization before forwarding', async (t) => {
  const { origin, gw } = await setup(t);
  assert.equal(await raw(gw.url, '/hide', [['authorization', `Bearer ${token}`]]), 200);
  assert.equal(origin.seen[0]!.headers.authorization, undefined);
});

test('a token in the configured cookie is accepted; with hideCredentials only that cookie is removed', async (t) => {
  const { origin, gw } = await setup(t);
  assert.equal(await raw(gw.url, '/cookie', [['cookie', `theme=dark; session=${token}; lang=en`]]), 200);
  assert.equal(origin.seen[0]!.headers.cookie, 'theme=dark; lang=en');
  assert.equal(await raw(gw.url, '/cookie', [['cookie', 'theme=dark; session=forged.token.here']]), 401);
  assert.equal(await raw(gw.url, '/keep', [['cookie', `session=${token}`]]), 401, 'no cookie configured: the cookie is not read');
  assert.equal(origin.seen.length, 1);
});

test('a token in the configured query parameter is accepted and cut from the forwarded URL', async (t) => {
  const { origin, gw } = await setup(t);
  assert.equal(await raw(gw.url, `/query?a=1&access_token=${token}&b=2`, []), 200);
  assert.equal(origin.seen[0]!.url, '/query?a=1&b=2');
  assert.equal(await raw(gw.url, '/query?access_token=forged', []), 401);
  assert.equal(await raw(gw.url, `/keep?access_token=${token}`, []), 401, 'no query configured: the parameter is not read');
  assert.equal(origin.seen.length, 1);
});
