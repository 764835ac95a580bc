/** Services with `http2: true`: the target's pool speaks HTTP/2 (ALPN over https, h2c over http) and multiplexes. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import { configErrors, routeFile, startGateway } from '../helpers/gateway.js';
import { h2connect, h2request, startH2Origin, type H2Origin } from '../helpers/h2.js';
import { selfSignedCert } from '../helpers/tls.js';

const ALL = `  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`;
const cert = selfSignedCert();

async function h2Origin(t: TestContext, tls: boolean): Promise<H2Origin> {
  const o = await startH2Origin(tls ? cert : undefined);
  t.after(() => o.close());
  return o;
}

test('an https service with http2: true is called over HTTP/2 (ALPN), bodies streamed both ways', async (t) => {
  const up = await h2Origin(t, true);
  const gw = await startGateway({
    'ca.pem': cert.cert,
    'routes.d/a.yaml': routeFile([up.url], ALL, '    protocol: https\n    http2: true\n    tls: { ca: ../ca.pem }\n'),
  });
  t.after(() => gw.close());
  // The client's own connection-specific headers must not reach (or break) the HTTP/2 upstream.
  const get = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers = { connection: 'keep-alive, x-drop', 'keep-alive': 'timeout=5', 'x-drop': '1', 'x-keep': 'yes', te: 'trailers', upgrade: 'h2c' };
    http.get(`${gw.url}/items?q=1`, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
  assert.equal(get.status, 200);
  assert.deepEqual(JSON.parse(get.body), { httpVersion: '2.0', path: '/items?q=1', bytes: 0 });
  assert.equal(up.seen[0]!.headers['x-keep'], 'yes');
  assert.equal(up.seen[0]!.headers['x-drop'], undefined);
  assert.equal(up.seen[0]!.headers['x-forwarded-proto'], 'http');
  const body = Buffer.alloc(200_000, 'b');
  const post = await request(`${gw.url}/upload`, { method: 'POST', body });
  assert.equal(post.statusCode, 200);
  assert.deepEqual(await post.body.json(), { httpVersion: '2.0', path: '/upload', bytes: body.length });
});

test('concurrent requests to an http2 service share one connection', async (t) => {
  const up = await h2Origin(t, true);
  const gw = await startGateway({
    'ca.pem': cert.cert,
    'routes.d/a.yaml': routeFile([up.url], ALL, '    protocol: https\n    http2: true\n    tls: { ca: ../ca.pem }\n'),
  });
  t.after(() => gw.close());
  // The first request opens the connection (and learns it is HTTP/2); the burst then shares it.
  await (await request(`${gw.url}/warm`)).body.dump();
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(`${gw.url}/n/${i}`).then(async (r) => (await r.body.json()) as { httpVersion: string })));
  assert.deepEqual([...new Set(answers.map((a) => a.httpVersion))], ['2.0']);
  assert.equal(up.sessions(), 1);
});

test('an http:// service with http2: true is called over h2c with prior knowledge', async (t) => {
  const up = await h2Origin(t, false);
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([up.url], ALL, '    http2: true\n') });
  t.after(() => gw.close());
  const res = await request(`${gw.url}/plain`, { method: 'PUT', body: 'abc' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(await res.body.json(), { httpVersion: '2.0', path: '/plain', bytes: 3 });
});

test('HTTP/2 from the client to the gateway and from the gateway to the service', async (t) => {
  const up = await h2Origin(t, true);
  const gw = await startGateway({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { http2: true, tls: { cert: ./cert.pem, key: ./key.pem } }\n',
    'cert.pem': cert.cert,
    'key.pem': cert.key,
    'routes.d/a.yaml': routeFile([up.url], ALL, '    protocol: https\n    http2: true\n    tls: { ca: ../cert.pem }\n'),
  });
  t.after(() => gw.close());
  const s = await h2connect(`https://localhost:${gw.gateway.address().port}`, { ca: cert.cert });
  t.after(() => s.destroy());
  const res = await h2request(s, { ':method': 'POST', ':path': '/both', 'content-type': 'text/plain' }, [Buffer.from('x'.repeat(1000))]);
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { httpVersion: '2.0', path: '/both', bytes: 1000 });
  const seen = up.seen[0]!.headers;
  assert.equal(seen[':authority'], `127.0.0.1:${new URL(up.url).port}`, 'the upstream :authority is the target, not the client one');
  assert.equal(seen['x-forwarded-host'], `localhost:${gw.gateway.address().port}`);
});

test('http2 is a boolean on services and on server', async () => {
  const errors = await configErrors({
    'gatehouse.yaml': 'server: { http2: yes-please }\n',
    'routes.d/a.yaml': routeFile(['http://127.0.0.1:1'], ALL, '    http2: 3\n'),
  });
  assert.ok(errors.some((e) => /^gatehouse\.yaml:1:\d+ server\.http2: /.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /^routes\.d\/a\.yaml:\d+:\d+ services\.svc\.http2: /.test(e)), errors.join('\n'));
});

test('http2 on a gRPC service is an error at the key (gRPC is HTTP/2 already)', async () => {
  const errors = await configErrors({ 'routes.d/a.yaml': 'services:\n  g:\n    protocol: grpc\n    http2: true\n    discovery: { static: ["http://127.0.0.1:1"] }\n' });
  assert.deepEqual(errors, ['routes.d/a.yaml:4:5 services.g.http2: gRPC services always use HTTP/2; http2 applies to http and https services']);
});
