import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explain } from '../../src/cli/explain.js';
import { loadConfig } from '../../src/config/load.js';
import { configDir, routeFile } from '../helpers/gateway.js';

test('explain says when a route proxies WebSocket upgrades', async (t) => {
  const dir = await configDir({
    'routes.d/a.yaml': routeFile(['http://127.0.0.1:9'], `  - id: chat\n    match: { path: /chat/* }\n    upstream: { service: svc, websocket: true }\n  - id: plain\n    match: { path: /plain/* }\n    upstream: { service: svc }\n`),
  });
  t.after(() => dir.cleanup());
  const snapshot = await loadConfig({ configFile: dir.configFile });
  const ws = await explain(snapshot, { method: 'GET', url: '/chat/room', headers: {} });
  assert.ok(ws.lines.some((l) => l.startsWith('websocket upgrades proxied')), ws.lines.join('\n'));
  const plain = await explain(snapshot, { method: 'GET', url: '/plain/x', headers: {} });
  assert.ok(!plain.lines.some((l) => l.startsWith('websocket')), plain.lines.join('\n'));
});
