/** Stream listeners across the gateway's life: start, a target going down, reload, close. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Gateway } from '../../src/server.js';
import { configDir, silent, startGateway } from '../helpers/gateway.js';
import { exchange, openClient, startTcpService, streamFile } from '../helpers/tcp.js';
import { waitUntil } from '../helpers/wait-until.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test('stream: a target that goes down is marked down by the tcp active health check; new connections go to the other', async (t) => {
  const a = await startTcpService('echo');
  const b = await startTcpService('echo');
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const health = '    healthCheck: { active: { interval: 50ms, timeout: 500ms, healthy: 1, unhealthy: 1 } }\n';
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([a.url, b.url], '  - { id: down, listen: 0, service: tcpsvc }\n', health) });
  t.after(() => gw.close());
  const port = gw.gateway.streamAddress('down')!.port;
  const svc = gw.gateway.serviceSet.get('tcpsvc')!;
  const targetB = svc.list().find((x) => x.url === b.url)!;

  // A connection open on b when it goes away is closed with it.
  const onB = [];
  for (let i = 0; i < 2; i++) {
    const c = await openClient(port);
    c.socket.write(`hi${i}`);
    await c.waitFor(`hi${i}`);
    onB.push(c);
  }
  assert.equal(b.talking.size, 1, 'one connection is open on b');
  await b.close();
  await Promise.race(onB.map((c) => c.closed));
  await waitUntil(() => !targetB.healthy, 'the active check marks b unhealthy');
  assert.match(JSON.stringify(svc.describe()), /"healthy":false/);

  const before = a.served;
  for (let i = 0; i < 4; i++) assert.equal((await exchange(port, `after${i}`)).received.toString(), `after${i}`);
  assert.equal(a.served - before, 4, 'every new connection went to a');
  for (const c of onB) c.socket.destroy();
});

test('stream: reload opens the listener of an added stream and closes the one of a removed stream; an unchanged one keeps its connections', async (t) => {
  const echo = await startTcpService('echo');
  t.after(() => echo.close());
  const one = '  - { id: keep, listen: 0, service: tcpsvc }\n  - { id: drop, listen: 0, service: tcpsvc }\n';
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([echo.url], one) });
  t.after(() => gw.close());
  const keepPort = gw.gateway.streamAddress('keep')!.port;
  const dropPort = gw.gateway.streamAddress('drop')!.port;
  const held = await openClient(keepPort);
  held.socket.write('before ');
  await held.waitFor('before ');

  await gw.dir.write('routes.d/s.yaml', streamFile([echo.url], '  - { id: keep, listen: 0, service: tcpsvc, idleTimeout: 1m }\n  - { id: added, listen: 0, service: tcpsvc }\n'));
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.equal(gw.gateway.streamAddress('keep')!.port, keepPort, 'the kept stream keeps its listener');
  assert.equal(gw.gateway.streamAddress('drop'), undefined);
  assert.equal(await refused(dropPort), true, 'the removed stream no longer accepts');
  const added = gw.gateway.streamAddress('added')!.port;
  assert.equal((await exchange(added, 'new one')).received.toString(), 'new one');

  held.socket.write('after');
  await held.waitFor('before after');
  held.socket.end();
  await held.closed;
});

test('stream: a reload that changes the service moves new connections to its new targets; open ones stay where they are', async (t) => {
  const a = await startTcpService('echo');
  const b = await startTcpService('echo');
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([a.url], '  - { id: moving, listen: 0, service: tcpsvc }\n') });
  t.after(() => gw.close());
  const port = gw.gateway.streamAddress('moving')!.port;
  const held = await openClient(port);
  held.socket.write('one ');
  await held.waitFor('one ');
  assert.equal(a.talking.size, 1);

  await gw.dir.write('routes.d/s.yaml', streamFile([b.url], '  - { id: moving, listen: 0, service: tcpsvc }\n'));
  assert.equal((await gw.gateway.reload()).ok, true);
  assert.equal(gw.gateway.streamAddress('moving')!.port, port);
  assert.equal((await exchange(port, 'to b')).received.toString(), 'to b');
  assert.equal(b.served, 1, 'the new connection went to the new target');
  held.socket.write('two');
  await held.waitFor('one two');
  assert.equal(a.served, 1, 'the open connection stayed on the old target');
  held.socket.end();
  await held.closed;
});

test('stream: a reload whose stream cannot bind its port is rejected and the running streams keep serving', async (t) => {
  const echo = await startTcpService('echo');
  t.after(() => echo.close());
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([echo.url], '  - { id: s, listen: 0, service: tcpsvc }\n') });
  t.after(() => gw.close());
  await gw.dir.write('routes.d/s.yaml', streamFile([echo.url], `  - { id: s, listen: 0, service: tcpsvc }\n  - { id: busy, listen: ${echo.port}, service: tcpsvc }\n`));
  const result = await gw.gateway.reload();
  assert.equal(result.ok, false);
  assert.match(JSON.stringify(result), new RegExp(`stream \\\\"busy\\\\" cannot listen on 127\\.0\\.0\\.1:${echo.port}: EADDRINUSE`));
  assert.equal(gw.gateway.streamAddress('busy'), undefined);
  assert.equal((await exchange(gw.gateway.streamAddress('s')!.port, 'still')).received.toString(), 'still');
});

test('stream: start fails with an error naming the stream and its address when the port is in use', async (t) => {
  const echo = await startTcpService('echo');
  t.after(() => echo.close());
  const dir = await configDir({ 'routes.d/s.yaml': streamFile([echo.url], `  - { id: taken, listen: ${echo.port}, service: tcpsvc }\n`) });
  t.after(() => dir.cleanup());
  await assert.rejects(
    Gateway.start({ configFile: dir.configFile, logger: silent, port: 0, host: '127.0.0.1', adminPort: 0 }),
    new RegExp(`stream "taken" cannot listen on 127\\.0\\.0\\.1:${echo.port}: EADDRINUSE`),
  );
});

test('stream: close stops accepting at once, lets open connections finish, then closes the ones left after the grace period', async (t) => {
  const echo = await startTcpService('echo');
  t.after(() => echo.close());
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([echo.url], '  - { id: drain, listen: 0, service: tcpsvc }\n') });
  const port = gw.gateway.streamAddress('drain')!.port;
  const finishing = await openClient(port);
  finishing.socket.write('a');
  await finishing.waitFor('a');

  let closed = false;
  const closing = gw.gateway.close(60_000).then(() => (closed = true));
  assert.equal(await refused(port), true, 'no new connections while draining');
  finishing.socket.write('b');
  await finishing.waitFor('ab');
  assert.equal(closed, false, 'close waits for the open connection');
  finishing.socket.end();
  await closing;
  await gw.dir.cleanup();

  // With a short grace period, a connection that stays open is closed for it.
  const gw2 = await startGateway({ 'routes.d/s.yaml': streamFile([echo.url], '  - { id: drain2, listen: 0, service: tcpsvc }\n') });
  const lingering = await openClient(gw2.gateway.streamAddress('drain2')!.port);
  lingering.socket.write('x');
  await lingering.waitFor('x');
  await gw2.gateway.close(100);
  await lingering.closed;
  await gw2.dir.cleanup();
});
