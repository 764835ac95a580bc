/** `gatehouse start` with a stream whose port is taken: exit 1 with one clear line, nothing served. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configDir } from '../helpers/gateway.js';
import { runCli } from '../helpers/cli.js';
import { startTcpService, streamFile } from '../helpers/tcp.js';

test('gatehouse start: a stream port in use exits 1 naming the stream and its address', async (t) => {
  const echo = await startTcpService('echo');
  t.after(() => echo.close());
  const dir = await configDir({
    'gatehouse.yaml': 'server: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\n',
    'routes.d/s.yaml': streamFile([echo.url], `  - { id: taken, listen: ${echo.port}, service: tcpsvc }\n`),
  });
  t.after(() => dir.cleanup());
  const r = runCli(['start', '-c', dir.configFile], dir.dir, { GATEHOUSE_LOG_LEVEL: 'silent' });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `gatehouse: stream "taken" cannot listen on 127.0.0.1:${echo.port}: EADDRINUSE`);
});
