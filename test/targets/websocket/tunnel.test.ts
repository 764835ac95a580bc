import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { openTunnel } from '../../../src/targets/websocket/tunnel.js';
import { waitFor } from '../../helpers/wait-for.js';

type T = { after: (fn: () => Promise<void> | void) => void };

/** A connected socket pair over loopback: [the gateway's side, the peer's side]. */
async function socketPair(t: T): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const peer = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [ours] = await accepted;
  await once(peer, 'connect');
  server.close();
  t.after(() => {
    ours.destroy();
    peer.destroy();
  });
  return [ours, peer];
}

test('a reader that stops reading pauses the other side (back-pressure), and everything arrives once it reads again', async (t) => {
  const [client, clientPeer] = await socketPair(t);
  const [upstream, upstreamPeer] = await socketPair(t);
  openTunnel(client, upstream);
  clientPeer.pause();
  const chunk = Buffer.alloc(1024 * 1024, 7);
  let sent = 0;
  // the upstream writes while it may; the tunnel must stop reading it rather than buffer everything
  const pump = async () => {
    for (let i = 0; i < 64; i++) {
      sent += chunk.length;
      if (!upstreamPeer.write(chunk)) await once(upstreamPeer, 'drain');
    }
    upstreamPeer.end();
  };
  const pumping = pump();
  await waitFor(() => upstream.isPaused() && client.writableNeedDrain, 'the tunnel to pause its upstream side');
  assert.ok(client.writableLength < 8 * 1024 * 1024, `the tunnel buffered ${client.writableLength} bytes`);
  let received = 0;
  clientPeer.on('data', (d: Buffer) => (received += d.length));
  clientPeer.resume();
  await pumping;
  await once(clientPeer, 'end');
  assert.equal(received, sent);
});

test('an end from one side ends the other, and the tunnel reports closed once both sockets are', async (t) => {
  const [client, clientPeer] = await socketPair(t);
  const [upstream, upstreamPeer] = await socketPair(t);
  const tunnel = openTunnel(client, upstream);
  clientPeer.resume();
  const clientPeerEnded = once(clientPeer, 'end');
  upstreamPeer.end();
  await clientPeerEnded;
  clientPeer.end();
  await tunnel.closed;
  assert.ok(client.destroyed && upstream.destroyed);
});

test('a reset on one side closes the other', async (t) => {
  const [client, clientPeer] = await socketPair(t);
  const [upstream, upstreamPeer] = await socketPair(t);
  const tunnel = openTunnel(client, upstream);
  upstreamPeer.resume();
  clientPeer.resetAndDestroy();
  await once(upstreamPeer, 'end');
  upstreamPeer.end();
  await tunnel.closed;
});

test('close() ends both sockets at once', async (t) => {
  const [client, clientPeer] = await socketPair(t);
  const [upstream, upstreamPeer] = await socketPair(t);
  const tunnel = openTunnel(client, upstream);
  clientPeer.resume();
  upstreamPeer.resume();
  const peersClosed = Promise.all([once(clientPeer, 'close'), once(upstreamPeer, 'close')]);
  tunnel.close();
  await tunnel.closed;
  await peersClosed;
});
