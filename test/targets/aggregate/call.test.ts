import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startGateway } from '../../helpers/gateway.js';
import { closedPort, startOrigin } from '../../helpers/upstream.js';
import { get, json } from './helpers.js';

test('a backend call refused by one target is tried once more on another target of its service', async (t) => {
  const origin = await startOrigin((_q, res) => json(res, { up: true }));
  t.after(() => origin.close());
  const down = `http://127.0.0.1:${await closedPort()}`;
  const gw = await startGateway({
    'routes.d/a.yaml': `services:
  users:
    discovery: { static: [${JSON.stringify(down)}, ${JSON.stringify(origin.url)}] }
routes:
  - id: d
    match: { path: /d }
    aggregate:
      backends:
        - { service: users, path: /a, as: a }
        - { service: users, path: /b, as: b }
`,
  });
  t.after(() => gw.close());
  const r = await get(`${gw.url}/d`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { a: { up: true }, b: { up: true } });
  assert.deepEqual(origin.seen.map((s) => s.url).sort(), ['/a', '/b']);
});
