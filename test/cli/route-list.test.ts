import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeList } from '../../src/cli/route-list.js';
import { loadConfig } from '../../src/config/load.js';
import { configDir } from '../helpers/gateway.js';

test('gatehouse routes lists streams after the HTTP routes: TCP, bind address and port, tcp service', async (t) => {
  const dir = await configDir({
    'routes.d/a.yaml': `services:
  web:
    discovery: { static: ["http://127.0.0.1:1"] }
  db:
    protocol: tcp
    discovery: { static: ["tcp://127.0.0.1:5432"] }
routes:
  - { id: home, match: { path: /, methods: [GET] }, upstream: { service: web } }
streams:
  - { id: pg, listen: 15432, host: 127.0.0.1, service: db }
`,
  });
  t.after(() => dir.cleanup());
  const lines = routeList(await loadConfig({ configFile: dir.configFile }));
  assert.equal(lines.length, 4);
  assert.match(lines[1]!, /^home\s+GET\s+\*\s+\/\s+proxy -> web$/);
  assert.match(lines[2]!, /^pg\s+TCP\s+127\.0\.0\.1\s+:15432\s+stream -> db$/);
  assert.equal(lines[3], '1 route, 2 services, 1 stream');
});
