import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { configDir, configErrors, routeFile } from '../../helpers/gateway.js';

test('upstream.websocket defaults to false', async (t) => {
  const dir = await configDir({ 'routes.d/a.yaml': routeFile(['http://127.0.0.1:9'], `  - id: r\n    match: { path: /r }\n    upstream: { service: svc }\n`) });
  t.after(() => dir.cleanup());
  const snapshot = await loadConfig({ configFile: dir.configFile });
  assert.equal(snapshot.routes[0]!.upstream!.websocket, false);
});

test('upstream.websocket must be a boolean, with the file position in the error', async () => {
  const errors = await configErrors({ 'routes.d/a.yaml': routeFile(['http://127.0.0.1:9'], `  - id: r\n    match: { path: /r }\n    upstream: { service: svc, websocket: sometimes }\n`) });
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0]!, /^routes\.d\/a\.yaml:\d+:\d+ routes\[0\]\.upstream\.websocket: must be true or false$/);
});
