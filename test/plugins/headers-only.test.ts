import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

const SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../src/index.ts');

/** Two custom plugins: one whose onSend is marked headersOnly, one whose onSend is not. */
const plugin = (name: string, marked: boolean) => `import { definePlugin, headersOnly, Type } from ${JSON.stringify(SRC)};
const hook = async (request, reply, payload) => {
  reply.header('x-served-by', '${name}');
  reply.header('x-seen-payload', payload === undefined ? 'none' : 'some');
  return payload;
};
export default definePlugin({
  name: '${name}',
  config: Type.Object({}),
  create() {
    return { onSend: ${marked ? 'headersOnly(hook)' : 'hook'} };
  },
});
`;

test('a headersOnly onSend runs on a proxied answer after the upstream headers (its header wins), the body streams through', async (t) => {
  const origin = await startOrigin((req, res) => {
    res.setHeader('x-served-by', 'the-upstream');
    res.setHeader('x-upstream', 'kept');
    if (req.url === '/missing') {
      res.statusCode = 404;
      return res.end('not here');
    }
    res.write('one ');
    setTimeout(() => res.end('two'), 5);
  });
  t.after(() => origin.close());
  const routes = `  - id: marked\n    match: { path: /marked/* }\n    upstream: { service: svc, stripPrefix: /marked }\n    plugins:\n      - stamp-marked: {}\n  - id: unmarked\n    match: { path: /unmarked/* }\n    upstream: { service: svc, stripPrefix: /unmarked }\n    plugins:\n      - stamp-unmarked: {}\n`;
  const gw = await startGateway(
    { 'routes.d/a.yaml': routeFile([origin.url], routes), 'plugins/stamp-marked.ts': plugin('stamp-marked', true), 'plugins/stamp-unmarked.ts': plugin('stamp-unmarked', false) },
    { inProject: true },
  );
  t.after(() => gw.close());

  const marked = await request(`${gw.url}/marked/x`);
  assert.equal(marked.statusCode, 200);
  assert.equal(marked.headers['x-served-by'], 'stamp-marked');
  assert.equal(marked.headers['x-seen-payload'], 'none', 'the marked hook ran on the head, with no payload');
  assert.equal(marked.headers['x-upstream'], 'kept');
  assert.match(String(marked.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(await marked.body.text(), 'one two');

  const missing = await request(`${gw.url}/marked/missing`);
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.headers['x-served-by'], 'stamp-marked');
  assert.equal(await missing.body.text(), 'not here');

  // Unmarked: Fastify's send path, the hook sees the body stream; same headers for the client.
  const unmarked = await request(`${gw.url}/unmarked/x`);
  assert.equal(unmarked.headers['x-served-by'], 'stamp-unmarked');
  assert.equal(unmarked.headers['x-seen-payload'], 'some');
  assert.equal(await unmarked.body.text(), 'one two');
});
