import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { request } from 'undici';
import { XMLParser } from 'fast-xml-parser';
import { routeFile, startGateway } from '../../helpers/gateway.js';
import { startOrigin, type Origin, type OriginHandler } from '../../helpers/upstream.js';

type T = { after: (f: () => Promise<void>) => void };

async function setup(t: T, plugin: string, handler?: OriginHandler): Promise<{ url: string; origin: Origin }> {
  const origin = await startOrigin(handler);
  t.after(() => origin.close());
  const gw = await startGateway({
    'routes.d/a.yaml': routeFile([origin.url], `  - id: b\n    match: { path: /b/:id }\n    upstream: { service: svc }\n    plugins:\n${plugin}`),
  });
  t.after(() => gw.close());
  return { url: gw.url, origin };
}

const jsonOrigin =
  (value: unknown, type = 'application/json'): OriginHandler =>
  (_req, res) => {
    res.setHeader('content-type', type);
    res.setHeader('etag', '"e1"');
    res.end(JSON.stringify(value));
  };

test('request JSON reshape: unwrap, select (nesting kept, through arrays), omit, rename, set from templates, wrap', async (t) => {
  const plugin = `      - body:
          request:
            unwrap: data
            select: [user.name, user.email, user.password, items.sku, items.qty, note]
            omit: [user.password]
            rename: { user.email: contact.mail }
            set: { meta.by: "{header.x-caller}", meta.order: "o-{params.id}", meta.emoji: "{query.e}" }
            wrap: payload
`;
  const { url, origin } = await setup(t, plugin);
  const sent = { data: { user: { name: 'Ada', email: 'ada@x.io', password: 'p', age: 36 }, items: [{ sku: 'a', qty: 1, price: 3 }, { sku: 'b', qty: 2 }], note: 'hi', secret: 1 } };
  const res = await request(`${url}/b/9?e=${encodeURIComponent('😀')}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-caller': 'svc-a' }, body: JSON.stringify(sent) });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  const got = origin.seen[0]!;
  assert.deepEqual(JSON.parse(got.body.toString()), {
    payload: {
      user: { name: 'Ada' },
      contact: { mail: 'ada@x.io' },
      items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }],
      note: 'hi',
      meta: { by: 'svc-a', order: 'o-9', emoji: '😀' },
    },
  });
  assert.equal(got.headers['content-length'], String(got.body.length));
  assert.match(String(got.headers['content-type']), /^application\/json/);
});

test('response JSON reshape: select and rename on the upstream body; Content-Length fixed, ETag dropped; error responses untouched', async (t) => {
  const plugin = `      - body:\n          response: { select: [id, profile.name], rename: { profile.name: name } }\n`;
  const { url } = await setup(t, plugin, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('etag', '"e1"');
    if (req.url === '/b/404') res.statusCode = 404;
    res.end(JSON.stringify({ id: 1, profile: { name: 'Ada', ssn: 'x' }, internal: true }));
  });
  const res = await request(`${url}/b/1`);
  const text = await res.body.text();
  assert.deepEqual(JSON.parse(text), { id: 1, profile: {}, name: 'Ada' });
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(text)));
  assert.equal(res.headers['etag'], undefined);
  const err = await request(`${url}/b/404`);
  assert.equal(err.statusCode, 404);
  assert.deepEqual(await err.body.json(), { id: 1, profile: { name: 'Ada', ssn: 'x' }, internal: true });
});

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' });

test('xml: request — a JSON request goes upstream as XML, and an XML request goes upstream as JSON', async (t) => {
  const { url, origin } = await setup(t, `      - body: { xml: request }\n`);
  const r1 = await request(`${url}/b/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ order: { '@id': '7', item: ['a', 'b'], note: '<&>' } }) });
  await r1.body.dump();
  const up1 = origin.seen[0]!;
  assert.match(String(up1.headers['content-type']), /^application\/xml/);
  assert.equal(up1.headers['content-length'], String(up1.body.length));
  const xmlText = up1.body.toString();
  assert.match(xmlText, /^<\?xml version="1.0" encoding="UTF-8"\?><order id="7"><item>a<\/item><item>b<\/item><note>&lt;&amp;&gt;<\/note><\/order>$/);

  const r2 = await request(`${url}/b/2`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<?xml version="1.0"?><order id="8"><item>x</item><total>2.5</total></order>' });
  await r2.body.dump();
  const up2 = origin.seen[1]!;
  assert.match(String(up2.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(up2.body.toString()), { order: { item: 'x', total: 2.5, '@id': '8' } });
});

test('xml: response — an XML upstream answer reaches the client as JSON (reshaped), and a JSON one as XML', async (t) => {
  const xmlUp = await setup(t, `      - body: { xml: response, response: { unwrap: catalog, omit: [secret] } }\n`, (_req, res) => {
    res.setHeader('content-type', 'application/xml');
    res.end('<catalog><book id="1"><title>Dune</title></book><book id="2"><title>Emma</title></book><secret>s</secret></catalog>');
  });
  const r1 = await request(`${xmlUp.url}/b/1`);
  assert.match(String(r1.headers['content-type']), /^application\/json/);
  assert.deepEqual(await r1.body.json(), { book: [{ title: 'Dune', '@id': '1' }, { title: 'Emma', '@id': '2' }] });

  const jsonUp = await setup(t, `      - body: { xml: both, xmlRoot: result }\n`, jsonOrigin([{ a: 1 }, { a: 2 }]));
  const r2 = await request(`${jsonUp.url}/b/1`, { headers: { 'accept-encoding': 'gzip' } });
  assert.match(String(r2.headers['content-type']), /^application\/xml/);
  const text = await r2.body.text();
  assert.equal(r2.headers['content-length'], String(Buffer.byteLength(text)));
  assert.deepEqual(xmlParser.parse(text), { '?xml': { '@version': '1.0', '@encoding': 'UTF-8' }, result: { item: [{ a: 1 }, { a: 2 }] } });
  assert.equal(jsonUp.origin.seen[0]!.headers['accept-encoding'], 'identity', 'the upstream is asked for a body the plugin can read');
});

test('with compress listed after body, the reshaped response is still compressed for the client', async (t) => {
  const big = { keep: 'x'.repeat(5000), drop: 'y' };
  const { url, origin } = await setup(t, `      - body: { response: { omit: [drop] } }\n      - compress: {}\n`, jsonOrigin(big));
  const res = await request(`${url}/b/1`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(res.headers['content-encoding'], 'gzip');
  const plain = zlib.gunzipSync(Buffer.from(await res.body.arrayBuffer())).toString();
  assert.deepEqual(JSON.parse(plain), { keep: big.keep });
  assert.equal(origin.seen[0]!.headers['accept-encoding'], 'identity');
});

test('bad bodies: malformed JSON or XML requests are 400 and not sent; a response over maxSize is 502; an unparseable upstream body passes unchanged', async (t) => {
  const { url, origin } = await setup(t, `      - body: { xml: request, request: { omit: [a] } }\n`);
  const bad = await request(`${url}/b/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
  assert.equal(bad.statusCode, 400);
  assert.equal(((await bad.body.json()) as { code: string }).code, 'BAD_REQUEST');
  const badXml = await request(`${url}/b/1`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a><b></a>' });
  assert.equal(badXml.statusCode, 400);
  await badXml.body.dump();
  assert.equal(origin.seen.length, 0);

  const capped = await setup(t, `      - body: { maxSize: 100, response: { omit: [a] } }\n`, jsonOrigin({ a: 'x'.repeat(500) }));
  const over = await request(`${capped.url}/b/1`);
  assert.equal(over.statusCode, 502);
  assert.equal(((await over.body.json()) as { code: string }).code, 'BAD_GATEWAY');

  const broken = await setup(t, `      - body: { response: { omit: [a] } }\n`, (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('not json');
  });
  const passed = await request(`${broken.url}/b/1`);
  assert.equal(passed.statusCode, 200);
  assert.equal(await passed.body.text(), 'not json');
});

test('a request body over maxSize is 413; a non-JSON, non-XML body streams through untouched', async (t) => {
  const { url, origin } = await setup(t, `      - body: { maxSize: 50, request: { omit: [a] } }\n`);
  const over = await request(`${url}/b/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(100) }) });
  assert.equal(over.statusCode, 413);
  await over.body.dump();
  const text = 'plain text '.repeat(100);
  const ok = await request(`${url}/b/1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
  assert.equal(ok.statusCode, 200);
  await ok.body.dump();
  assert.equal(origin.seen.length, 1);
  assert.equal(origin.seen[0]!.body.toString(), text);
});

test('validate then body: the body validate parsed is reshaped without being read twice', async (t) => {
  const plugin = `      - validate: { body: { type: object, required: [a] } }\n      - body: { request: { rename: { a: b } } }\n`;
  const { url, origin } = await setup(t, plugin);
  const res = await request(`${url}/b/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1,"c":2}' });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  assert.deepEqual(JSON.parse(origin.seen[0]!.body.toString()), { c: 2, b: 1 });
});

test('a template with an unknown reference is an error at load; an empty config is inactive', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  await assert.rejects(
    startGateway({ 'routes.d/a.yaml': routeFile([origin.url], `  - id: b\n    match: { path: /b }\n    upstream: { service: svc }\n    plugins:\n      - body: { request: { set: { x: "{nope}" } } }\n`) }),
    (err: Error & { issues?: { message: string }[] }) => {
      assert.match((err.issues ?? []).map((i) => i.message).join('\n') || err.message, /unknown template reference \{nope\}/);
      return true;
    },
  );
  const gw = await startGateway({ 'routes.d/a.yaml': routeFile([origin.url], `  - id: b\n    match: { path: /b }\n    upstream: { service: svc }\n    plugins:\n      - body: {}\n`) });
  t.after(() => gw.close());
  assert.deepEqual(gw.gateway.app.chains.get('b'), []);
});
