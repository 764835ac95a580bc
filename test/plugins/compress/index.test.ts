import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { request } from 'undici';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startOrigin } from '../../helpers/upstream.js';

const TEXT = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item number ${i}` })) });

interface Setup {
  url: string;
}

/** An origin answering by path: /json (big JSON), /small, /png, /encoded, /notransform, /stream (4 MiB chunked). */
async function setup(t: { after: (f: () => Promise<void>) => void }, pluginConfig = '{}'): Promise<Setup> {
  const origin = await startOrigin((req, res) => {
    const path = req.url!.split('?')[0];
    if (path === '/c/json') {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('etag', '"v1"');
      return res.end(TEXT);
    }
    if (path === '/c/small') {
      res.setHeader('content-type', 'application/json');
      return res.end('{"ok":true}');
    }
    if (path === '/c/png') {
      res.setHeader('content-type', 'image/png');
      return res.end(Buffer.alloc(5000, 7));
    }
    if (path === '/c/encoded') {
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-encoding', 'gzip');
      return res.end(zlib.gzipSync(TEXT));
    }
    if (path === '/c/notransform') {
      res.setHeader('content-type', 'application/json');
      res.setHeader('cache-control', 'public, no-transform');
      return res.end(TEXT);
    }
    if (path === '/c/stream') {
      res.setHeader('content-type', 'text/plain');
      let i = 0;
      const write = () => {
        while (i < 256) {
          const chunk = Buffer.alloc(16 * 1024, `chunk ${i} `);
          i++;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      return write();
    }
    res.statusCode = 404;
    res.end();
  });
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: c\n    match: { path: /c/* }\n    upstream: { service: svc }\n    plugins:\n      - compress: ${pluginConfig}\n`),
  });
  t.after(() => gw.close());
  return { url: gw.url };
}

async function get(url: string, acceptEncoding?: string) {
  const res = await request(url, { headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

test('gzip when the client accepts only gzip: Vary set, Content-Length dropped, ETag weakened, same bytes after gunzip', async (t) => {
  const { url } = await setup(t);
  const res = await get(`${url}/c/json`, 'gzip');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-encoding'], 'gzip');
  assert.equal(res.headers['vary'], 'Accept-Encoding');
  assert.equal(res.headers['content-length'], undefined);
  assert.equal(res.headers['etag'], 'W/"v1"');
  assert.ok(res.body.length < Buffer.byteLength(TEXT));
  assert.equal(zlib.gunzipSync(res.body).toString(), TEXT);
});

test('brotli when the client accepts br (preferred over gzip at equal q); q-values decide otherwise', async (t) => {
  const { url } = await setup(t);
  const br = await get(`${url}/c/json`, 'gzip, deflate, br');
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(zlib.brotliDecompressSync(br.body).toString(), TEXT);
  const gz = await get(`${url}/c/json`, 'br;q=0.5, gzip;q=0.9');
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(gz.body).toString(), TEXT);
  const star = await get(`${url}/c/json`, '*');
  assert.equal(star.headers['content-encoding'], 'br');
});

test('no compression without Accept-Encoding, with identity only, or with every offered encoding at q=0 — but Vary is still set', async (t) => {
  const { url } = await setup(t);
  for (const ae of [undefined, 'identity', 'gzip;q=0, br;q=0', 'deflate']) {
    const res = await get(`${url}/c/json`, ae);
    assert.equal(res.headers['content-encoding'], undefined, String(ae));
    assert.equal(res.headers['vary'], 'Accept-Encoding');
    assert.equal(res.body.toString(), TEXT);
  }
});

test('a response below the threshold goes as it is; a lower threshold compresses it', async (t) => {
  const { url } = await setup(t);
  const res = await get(`${url}/c/small`, 'gzip');
  assert.equal(res.headers['content-encoding'], undefined);
  assert.equal(res.body.toString(), '{"ok":true}');

  const low = await setup(t, '{ threshold: 0 }');
  const small = await get(`${low.url}/c/small`, 'gzip');
  assert.equal(small.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(small.body).toString(), '{"ok":true}');
});

test('only the configured types are compressed', async (t) => {
  const { url } = await setup(t);
  const png = await get(`${url}/c/png`, 'gzip');
  assert.equal(png.headers['content-encoding'], undefined);
  assert.equal(png.headers['vary'], undefined);
  assert.equal(png.body.length, 5000);

  const only = await setup(t, '{ types: ["image/*"] }');
  const json = await get(`${only.url}/c/json`, 'gzip');
  assert.equal(json.headers['content-encoding'], undefined);
  const img = await get(`${only.url}/c/png`, 'gzip');
  assert.equal(img.headers['content-encoding'], 'gzip');
  assert.deepEqual(zlib.gunzipSync(img.body), Buffer.alloc(5000, 7));
});

test('an already-encoded response is not encoded again', async (t) => {
  const { url } = await setup(t);
  const res = await get(`${url}/c/encoded`, 'gzip, br');
  assert.equal(res.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(res.body).toString(), TEXT);
});

test('Cache-Control: no-transform responses are left alone', async (t) => {
  const { url } = await setup(t);
  const res = await get(`${url}/c/notransform`, 'gzip, br');
  assert.equal(res.headers['content-encoding'], undefined);
  assert.equal(res.body.toString(), TEXT);
});

test('a large streamed body (4 MiB, chunked) decompresses to the same bytes, gzip and brotli', async (t) => {
  const { url } = await setup(t);
  const expected = createHash('sha256');
  for (let i = 0; i < 256; i++) expected.update(Buffer.alloc(16 * 1024, `chunk ${i} `));
  const digest = expected.digest('hex');
  for (const [enc, decode] of [
    ['gzip', zlib.gunzipSync],
    ['br', zlib.brotliDecompressSync],
  ] as const) {
    const res = await get(`${url}/c/stream`, enc);
    assert.equal(res.headers['content-encoding'], enc);
    assert.ok(res.body.length < 4 * 1024 * 1024);
    const plain = decode(res.body);
    assert.equal(plain.length, 4 * 1024 * 1024);
    assert.equal(createHash('sha256').update(plain).digest('hex'), digest);
  }
});

test('an encoding the plugin does not offer is an error at load', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  await assert.rejects(
    startGateway({ 'routes.d/a.yaml': routeFile([origin.url], `  - id: c\n    match: { path: /c }\n    upstream: { service: svc }\n    plugins:\n      - compress: { encodings: [deflate] }\n`) }),
    /encodings/,
  );
});
