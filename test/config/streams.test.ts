import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { configDir, configErrors } from '../helpers/gateway.js';

test('config: a route file with only services: and streams: loads; stream defaults are filled', async (t) => {
  const dir = await configDir({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { host: 127.0.0.2 }\n',
    'routes.d/a.yaml': `services:
  db:
    protocol: tcp
    loadBalancer: consistent-hash
    discovery: { static: ["tcp://127.0.0.1:5432", "tcp://[::1]:5433"] }
streams:
  - { id: pg, listen: 7000, service: db }
  - { id: pg2, listen: 7001, host: 127.0.0.1, service: db, idleTimeout: 10s, connectTimeout: 250ms }
`,
  });
  t.after(() => dir.cleanup());
  const snap = await loadConfig({ configFile: dir.configFile });
  assert.deepEqual(snap.routes, []);
  assert.deepEqual(snap.services.get('db')!.targets.map((x) => x.url), ['tcp://127.0.0.1:5432', 'tcp://[::1]:5433']);
  const [pg, pg2] = snap.streams;
  assert.deepEqual({ id: pg!.id, listen: pg!.listen, host: pg!.host, idleTimeout: pg!.idleTimeout, connectTimeout: pg!.connectTimeout }, { id: 'pg', listen: 7000, host: '127.0.0.2', idleTimeout: 300_000, connectTimeout: undefined });
  assert.deepEqual({ host: pg2!.host, idleTimeout: pg2!.idleTimeout, connectTimeout: pg2!.connectTimeout }, { host: '127.0.0.1', idleTimeout: 10_000, connectTimeout: 250 });
});

test('config: stream and tcp service errors carry FILE:LINE:COL, across files', async () => {
  const errors = await configErrors({
    'gatehouse.yaml': 'admin: { enabled: false }\nserver: { port: 8080 }\n',
    'routes.d/a.yaml': `services:
  web:
    discovery: { static: ["http://127.0.0.1:1"] }
  db:
    protocol: tcp
    discovery: { static: ["tcp://127.0.0.1:5432", "http://127.0.0.1:1", "tcp://127.0.0.1", "tcp://h:1/x"] }
routes:
  - { id: r, match: { path: /x }, upstream: { service: db } }
streams:
  - { id: pg, listen: 7000, service: db }
  - { id: bad, listen: 7001, service: web }
  - { id: none, listen: 7002, service: nope }
  - { id: http, listen: 8080, service: db }
`,
    'routes.d/b.yaml': `streams:
  - { id: pg, listen: 7100, service: db }
  - { id: other, listen: 7000, service: db }
`,
  });
  assert.deepEqual(errors, [
    'routes.d/a.yaml:6:51 services.db.discovery.static[1]: target "http://127.0.0.1:1" does not match the service protocol tcp (tcp targets are tcp://host:port)',
    'routes.d/a.yaml:6:73 services.db.discovery.static[2]: target "tcp://127.0.0.1" must be tcp://host:port',
    'routes.d/a.yaml:6:92 services.db.discovery.static[3]: target "tcp://h:1/x" must be tcp://host:port',
    "routes.d/a.yaml:13:17 streams[3].listen: port 8080 is the gateway's server.port",
    'routes.d/b.yaml:2:7 streams[0].id: stream id "pg" is used twice: here and in routes.d/a.yaml:10:7',
    'routes.d/b.yaml:3:18 streams[1].listen: port 7000 is already the listen port of the stream at routes.d/a.yaml:10:15',
    'routes.d/a.yaml:8:47 routes[0].upstream.service: service "db" has protocol tcp; only streams: can use it (HTTP routes need http, https or grpc)',
    'routes.d/a.yaml:11:30 streams[1].service: service "web" has protocol http; streams need a service with protocol: tcp',
    'routes.d/a.yaml:12:31 streams[2].service: unknown service "nope"',
  ]);
});

test('config: schema errors of a stream, settings that do not apply to tcp services, unreadable TLS files', async () => {
  const errors = await configErrors({
    'routes.d/a.yaml': `services:
  db:
    protocol: tcp
    hashKey: header:x-user
    circuitBreaker: {}
    healthCheck: { active: { expectStatus: [200] } }
    discovery: { static: ["tcp://127.0.0.1:5432"] }
  agg:
    discovery: { static: ["http://127.0.0.1:1"] }
routes:
  - id: a
    match: { path: /a }
    aggregate: { backends: [ { service: db, path: /x, as: x } ] }
streams:
  - { id: pg, listen: 7000, service: db, tls: { cert: missing.pem, key: missing-key.pem } }
`,
    'routes.d/b.yaml': 'streams:\n  - { id: big, listen: 70000, service: db, idleTimeout: soon, lb: x }\n',
  });
  assert.deepEqual(errors, [
    'routes.d/a.yaml:4:5 services.db.hashKey: tcp services hash by client address: hashKey must be ip',
    'routes.d/a.yaml:6:30 services.db.healthCheck.active.expectStatus: tcp health checks only connect; there is no status to expect',
    'routes.d/a.yaml:5:5 services.db.circuitBreaker: does not apply to tcp services (streams connect once, with failover to another target)',
    'routes.d/a.yaml:15:49 streams[0].tls.cert: cannot read routes.d/missing.pem: ENOENT',
    'routes.d/a.yaml:15:68 streams[0].tls.key: cannot read routes.d/missing-key.pem: ENOENT',
    'routes.d/b.yaml:2:63 streams[0].lb: unknown key "lb" (did you mean "id"?)',
    'routes.d/b.yaml:2:16 streams[0].listen: must be <= 65535',
    'routes.d/b.yaml:2:44 streams[0].idleTimeout: must be a duration such as 250ms, 5s, 1m, 1h or a number of milliseconds',
    'routes.d/a.yaml:13:32 routes[0].aggregate.backends[0].service: service "db" has protocol tcp; only streams: can use it (HTTP routes need http, https or grpc)',
  ]);
});

test('config: http2 on a tcp service is an error at its key', async () => {
  const errors = await configErrors({
    'routes.d/a.yaml': 'services:\n  db:\n    protocol: tcp\n    http2: true\n    discovery: { static: ["tcp://127.0.0.1:5432"] }\n',
  });
  assert.deepEqual(errors, ['routes.d/a.yaml:4:5 services.db.http2: tcp services carry raw bytes; http2 applies to http and https services']);
});
