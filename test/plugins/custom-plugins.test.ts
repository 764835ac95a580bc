import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { ConfigError, formatIssue } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/load.js';
import { configDir, routeFile, startGateway } from '../helpers/gateway.js';
import { startOrigin } from '../helpers/upstream.js';

const SHIPPED_PLUGINS = path.resolve(import.meta.dirname, '../../plugins');

test('the shipped TypeScript plugin (plugins/tenant.ts) is loaded and changes the request', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const gw = await startGateway({
    'gatehouse.yaml': `admin: { enabled: false }\nplugins: ${SHIPPED_PLUGINS}\n`,
    'routes.d/a.yaml': routeFile(
      [origin.url],
      `  - id: t\n    match: { path: /t }\n    upstream: { service: svc }\n    plugins:\n      - tenant: { header: x-org, allowed: [acme] }\n`,
    ),
  });
  t.after(() => gw.close());
  const ok = await request(`${gw.url}/t`, { headers: { 'x-org': 'acme', 'x-tenant-id': 'spoofed' } });
  assert.equal(ok.statusCode, 200);
  await ok.body.dump();
  assert.equal(origin.seen[0]!.headers['x-tenant-id'], 'acme');
  const missing = await request(`${gw.url}/t`);
  assert.equal(missing.statusCode, 400);
  assert.equal(((await missing.body.json()) as { code: string }).code, 'BAD_REQUEST');
  const other = await request(`${gw.url}/t`, { headers: { 'x-org': 'globex' } });
  assert.equal(other.statusCode, 403);
  await other.body.dump();
  assert.equal(origin.seen.length, 1);
});

test('a JavaScript plugin from plugins/ runs in globalPlugins before the route plugins, in listed order', async (t) => {
  const origin = await startOrigin();
  t.after(() => origin.close());
  const stamp = `import { definePlugin, Type } from 'gatehouse';
export default definePlugin({
  name: 'stamp',
  config: Type.Object({ value: Type.String() }, { additionalProperties: false }),
  create(config) {
    return { onRequest: async (request) => { request.headers['x-trail'] = (request.headers['x-trail'] ? request.headers['x-trail'] + ',' : '') + config.value; } };
  },
});
`;
  const gw = await startGateway(
    {
      'gatehouse.yaml': 'admin: { enabled: false }\nglobalPlugins:\n  - stamp: { value: global }\n',
      'plugins/stamp.js': stamp,
      'routes.d/a.yaml': routeFile([origin.url], `  - id: t\n    match: { path: /t }\n    upstream: { service: svc }\n    plugins:\n      - stamp: { value: one }\n      - stamp: { value: two }\n`),
    },
    { inProject: true },
  );
  t.after(() => gw.close());
  const res = await request(`${gw.url}/t`);
  await res.body.dump();
  assert.equal(origin.seen[0]!.headers['x-trail'], 'global,one,two');
});

test('a bad custom plugin config is an error at FILE:LINE:COL; unknown names get a did-you-mean', async (t) => {
  const dir = await configDir({
    'gatehouse.yaml': `admin: { enabled: false }\nplugins: ${SHIPPED_PLUGINS}\n`,
    'routes.d/a.yaml': routeFile(
      ['http://127.0.0.1:1'],
      `  - id: t\n    match: { path: /t }\n    upstream: { service: svc }\n    plugins:\n      - tenant: { from: cookie }\n      - tenat: {}\n`,
    ),
  });
  t.after(() => dir.cleanup());
  const err = await loadConfig({ configFile: dir.configFile }).catch((e: unknown) => e);
  assert.ok(err instanceof ConfigError);
  assert.deepEqual(
    err.issues.map((i) => formatIssue(i).replaceAll(`${dir.dir}/`, '')),
    [
      'routes.d/a.yaml:10:19 routes[0].plugins[0].tenant.from: must be "header" | "subdomain" | "jwt"'.replace(/must be .*$/, err.issues[0]!.message),
      'routes.d/a.yaml:11:9 routes[0].plugins[1].tenat: unknown plugin "tenat" (did you mean "tenant"?)',
    ],
  );
  assert.equal(err.issues[0]!.line, 10);
  assert.equal(err.issues[0]!.col, 19);
});

test('a plugin file that does not export a plugin is reported, naming the file', async (t) => {
  const dir = await configDir({ 'plugins/broken.js': 'export default 42;\n', 'plugins/throws.js': 'throw new Error("boom at load");\n' }, { inProject: true });
  t.after(() => dir.cleanup());
  const err = await loadConfig({ configFile: dir.configFile }).catch((e: unknown) => e);
  assert.ok(err instanceof ConfigError);
  const lines = err.issues.map((i) => formatIssue(i).replace(/^.*plugins\//, 'plugins/'));
  assert.deepEqual(lines, [
    'plugins/broken.js:1:1 the default export is not a plugin (use export default definePlugin({ name, config, create }))',
    'plugins/throws.js:1:1 cannot load plugin: boom at load',
  ]);
});

test('a plugin whose create() refuses its config is a positioned load error too', async (t) => {
  const dir = await configDir({
    'routes.d/a.yaml': routeFile(['http://127.0.0.1:1'], `  - id: t\n    match: { path: /t }\n    upstream: { service: svc }\n    plugins:\n      - headers: { request: { set: { x-a: "{nope.x}" } } }\n`),
  });
  t.after(() => dir.cleanup());
  await assert.rejects(startGateway({ 'routes.d/a.yaml': routeFile(['http://127.0.0.1:1'], `  - id: t\n    match: { path: /t }\n    upstream: { service: svc }\n    plugins:\n      - headers: { request: { set: { x-a: "{nope.x}" } } }\n`) }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(formatIssue(e.issues[0]!), /routes\.d\/a\.yaml:10:9 plugin headers \(route t\): request\.set\.x-a: unknown template reference \{nope\.x\}/);
    return true;
  });
});
