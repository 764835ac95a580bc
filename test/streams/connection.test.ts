/** One client connection through a stream: bytes both ways, half-close, failover, idle timeout, TLS, metrics. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { streamBytes, streamConnectErrors, streamConnections } from '../../src/observability/metrics.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { exchange, openClient, refusedPort, startTcpService, streamFile } from '../helpers/tcp.js';
import { selfSignedCert } from '../helpers/tls.js';
import { waitUntil } from '../helpers/wait-until.js';

const portOf = (gw: RunningGateway, id: string): number => gw.gateway.streamAddress(id)!.port;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function counterValue(metric: typeof streamConnections | typeof streamBytes | typeof streamConnectErrors, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k as keyof typeof v.labels] === want)).reduce((n, v) => n + v.value, 0);
}

/** Waits until the counter reaches `want` (a connection is counted once both of its sockets closed). */
async function counted(metric: Parameters<typeof counterValue>[0], labels: Record<string, string>, want: number): Promise<void> {
  const deadline = Date.now() + 5000;
  let last = await counterValue(metric, labels);
  while (last !== want) {
    if (Date.now() > deadline) assert.fail(`${JSON.stringify(labels)}: counted ${last}, want ${want}`);
    await new Promise((r) => setTimeout(r, 10));
    last = await counterValue(metric, labels);
  }
}

test('stream: bytes go both ways through a tcp service, and a 10 MB payload comes back intact', async (t) => {
  const echo = await startTcpService('echo');
  t.after(() => echo.close());
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([echo.url], '  - { id: echo-both, listen: 0, service: tcpsvc }\n') });
  t.after(() => gw.close());
  const small = await exchange(portOf(gw, 'echo-both'), 'hello stream');
  assert.equal(small.received.toString(), 'hello stream');
  assert.equal(small.ended, true);

  const big = randomBytes(10 * 1024 * 1024);
  const back = await exchange(portOf(gw, 'echo-both'), big);
  assert.equal(back.received.length, big.length);
  assert.equal(sha(back.received), sha(big));
  assert.equal(echo.accepted, 2);
});

test('stream: after the client ends its side, the target still answers and the client gets it (half-close)', async (t) => {
  const counter = await startTcpService('count');
  t.after(() => counter.close());
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([counter.url], '  - { id: half-close, listen: 0, service: tcpsvc }\n') });
  t.after(() => gw.close());
  const r = await exchange(portOf(gw, 'half-close'), Buffer.alloc(100_000, 7));
  assert.equal(r.received.toString(), 'got 100000 bytes');
  assert.equal(r.ended, true);
});

test('stream: round-robin spreads connections over two targets; least-connections counts open connections', async (t) => {
  const a = await startTcpService('echo');
  const b = await startTcpService('echo');
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const gw = await startGateway({
    'routes.d/s.yaml': streamFile([a.url, b.url], '  - { id: rr, listen: 0, service: tcpsvc }\n  - { id: lc, listen: 0, service: lcsvc }\n'),
    'routes.d/t.yaml': `services:\n  lcsvc:\n    protocol: tcp\n    loadBalancer: least-connections\n    discovery: { static: ["${a.url}", "${b.url}"] }\n`,
  });
  t.after(() => gw.close());
  for (let i = 0; i < 4; i++) assert.equal((await exchange(portOf(gw, 'rr'), `m${i}`)).received.toString(), `m${i}`);
  assert.equal(a.accepted, 2);
  assert.equal(b.accepted, 2);

  // Three connections held open: least-connections alternates, so each target has at least one.
  const held = [];
  for (let i = 0; i < 3; i++) {
    const c = await openClient(portOf(gw, 'lc'));
    c.socket.write(`x${i}`);
    await c.waitFor(`x${i}`);
    held.push(c);
  }
  assert.deepEqual([a.open.size, b.open.size].sort(), [1, 2]);
  const targets = gw.gateway.serviceSet.get('lcsvc')!.list();
  assert.deepEqual(targets.map((x) => x.inflight).sort(), [1, 2]);
  for (const c of held) c.socket.end();
  await Promise.all(held.map((c) => c.closed));
  await waitUntil(() => targets.every((x) => x.inflight === 0), 'the open-connection counts are back to 0');
});

test('stream: consistent-hash keeps one client address on one target', async (t) => {
  const a = await startTcpService('echo');
  const b = await startTcpService('echo');
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([a.url, b.url], '  - { id: sticky, listen: 0, service: tcpsvc }\n', '    loadBalancer: consistent-hash\n') });
  t.after(() => gw.close());
  for (let i = 0; i < 6; i++) assert.equal((await exchange(portOf(gw, 'sticky'), `c${i}`)).received.toString(), `c${i}`);
  assert.deepEqual([a.served, b.served].sort(), [0, 6]);
});

test('stream: a target that refuses connections is skipped; the client is served by the other (passive failover)', async (t) => {
  const good = await startTcpService('echo');
  t.after(() => good.close());
  const down = `tcp://127.0.0.1:${await refusedPort()}`;
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([down, good.url], '  - { id: failover, listen: 0, service: tcpsvc }\n', '    healthCheck: { passive: { failures: 2, ejectFor: 1m } }\n') });
  t.after(() => gw.close());
  for (let i = 0; i < 4; i++) assert.equal((await exchange(portOf(gw, 'failover'), `p${i}`)).received.toString(), `p${i}`);
  assert.equal(good.accepted, 4);
  // Round-robin sent the first connection to the dead target; two failures ejected it.
  assert.equal(await counterValue(streamConnectErrors, { stream: 'failover', target: down }), 2);
  const dead = gw.gateway.serviceSet.get('tcpsvc')!.list().find((x) => x.url === down)!;
  assert.ok(dead.ejected(), 'the refusing target is ejected by passive health');
});

test('stream: with only refusing targets, the client connection is closed without data', async (t) => {
  const a = `tcp://127.0.0.1:${await refusedPort()}`;
  const b = `tcp://127.0.0.1:${await refusedPort()}`;
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([a, b], '  - { id: refused, listen: 0, service: tcpsvc }\n') });
  t.after(() => gw.close());
  const c = await openClient(portOf(gw, 'refused'));
  await c.closed;
  assert.equal(c.received(), '');
  await counted(streamConnections, { stream: 'refused', outcome: 'unavailable' }, 1);
  assert.equal(await counterValue(streamConnectErrors, { stream: 'refused' }), 2, 'both targets were tried once');
});

test('stream: a connection without traffic for idleTimeout is closed on both sides', async (t) => {
  const echo = await startTcpService('echo');
  t.after(() => echo.close());
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([echo.url], '  - { id: idle, listen: 0, service: tcpsvc, idleTimeout: 200ms }\n') });
  t.after(() => gw.close());
  const c = await openClient(portOf(gw, 'idle'));
  c.socket.write('ping');
  await c.waitFor('ping');
  assert.equal(echo.open.size, 1);
  await c.closed;
  await waitUntil(() => echo.open.size === 0, 'the target side is closed too');
  await counted(streamConnections, { stream: 'idle', outcome: 'idle_timeout' }, 1);
});

test('stream: TLS is terminated at the gateway; the target sees plain bytes', async (t) => {
  const { cert, key } = selfSignedCert();
  const echo = await startTcpService('echo');
  t.after(() => echo.close());
  const gw = await startGateway({
    'routes.d/s.yaml': streamFile([echo.url], '  - { id: tls-stream, listen: 0, service: tcpsvc, tls: { cert: ../certs/cert.pem, key: ../certs/key.pem } }\n'),
    'certs/cert.pem': cert,
    'certs/key.pem': key,
  });
  t.after(() => gw.close());
  const r = await exchange(portOf(gw, 'tls-stream'), 'secret bytes', { ca: cert });
  assert.equal(r.received.toString(), 'secret bytes');

  // A client that does not speak TLS gets no target connection.
  const plain = net.connect({ host: '127.0.0.1', port: portOf(gw, 'tls-stream') });
  plain.on('error', () => undefined);
  plain.write('not a client hello\r\n\r\n');
  await new Promise<void>((resolve) => plain.once('close', () => resolve()));
  assert.equal(echo.accepted, 1);
  await counted(streamConnections, { stream: 'tls-stream', outcome: 'tls_error' }, 1);
});

test('stream: connections and bytes each way are counted in metrics', async (t) => {
  const counter = await startTcpService('count');
  t.after(() => counter.close());
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([counter.url], '  - { id: metered, listen: 0, service: tcpsvc }\n') });
  t.after(() => gw.close());
  const r = await exchange(portOf(gw, 'metered'), Buffer.alloc(5000));
  assert.equal(r.received.toString(), 'got 5000 bytes');
  await counted(streamConnections, { stream: 'metered', outcome: 'closed' }, 1);
  assert.equal(await counterValue(streamBytes, { stream: 'metered', direction: 'upstream' }), 5000);
  assert.equal(await counterValue(streamBytes, { stream: 'metered', direction: 'downstream' }), 'got 5000 bytes'.length);
  const text = (await gw.gateway.metrics()).body;
  assert.match(text, /gatehouse_stream_active_connections\{stream="metered"\} 0/);
  assert.match(text, /gatehouse_stream_bytes_total\{stream="metered",direction="upstream"\} 5000/);
});

test('stream: back-pressure: a client that does not read stalls the target instead of filling the gateway', async (t) => {
  const total = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 1);
  let finished = false;
  let waitingForDrain = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let sent = 0;
    const pump = () => {
      waitingForDrain = false;
      while (sent < total) {
        sent += chunk.length;
        if (!socket.write(chunk)) {
          waitingForDrain = true;
          socket.once('drain', pump);
          return;
        }
      }
      socket.end(() => (finished = true));
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))));
  const port = (server.address() as net.AddressInfo).port;
  const gw = await startGateway({ 'routes.d/s.yaml': streamFile([`tcp://127.0.0.1:${port}`], '  - { id: backpressure, listen: 0, service: tcpsvc }\n') });
  t.after(() => gw.close());

  const client = net.connect({ host: '127.0.0.1', port: portOf(gw, 'backpressure') });
  client.pause();
  t.after(() => client.destroy());
  // Wait until the relay stops moving: the target blocked on drain and the byte count unchanged for a while.
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await counterValue(streamBytes, { stream: 'backpressure', direction: 'downstream' });
    if (finished || (waitingForDrain && now === last)) break;
    last = now;
  }
  assert.equal(finished, false, 'the target could not send everything to a client that reads nothing');
  assert.ok(last < total / 4, `the gateway relayed ${last} of ${total} bytes while the client read nothing`);

  // Once the client reads, everything arrives.
  let received = 0;
  client.on('data', (d: Buffer) => (received += d.length));
  client.resume();
  await new Promise<void>((r) => client.once('end', () => r()));
  assert.equal(received, total);
});
