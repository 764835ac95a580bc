import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { request } from 'undici';
import { Cancellation, ClientGone, waitUnlessCancelled } from '../../src/upstream/client-gone.js';
import { startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait-for.js';

test('ClientGone fires once, with an abort error undici and the classifier read as the client leaving', () => {
  const gone = new ClientGone();
  let fired = 0;
  gone.once('abort', () => fired++);
  gone.abort();
  gone.abort();
  assert.equal(fired, 1);
  assert.equal(gone.aborted, true);
  assert.equal((gone.reason as { name: string }).name, 'AbortError');
  assert.equal((gone.reason as { code: string }).code, 'UND_ERR_ABORTED');
});

test('Cancellation (no EventEmitter): listeners run once in order, removed ones do not; undici takes it as a request signal', async (t) => {
  const c = new Cancellation();
  const ran: string[] = [];
  const b = () => ran.push('b');
  c.once('abort', () => ran.push('a'));
  c.on('abort', b);
  c.once('abort', () => ran.push('c'));
  assert.equal(c.listenerCount('abort'), 3);
  c.removeListener('abort', b);
  assert.equal(c.listenerCount('abort'), 2);
  c.abort('why');
  c.abort('again');
  assert.deepEqual(ran, ['a', 'c']);
  assert.equal(c.reason, 'why');
  assert.equal(c.listenerCount('abort'), 0);

  const origin = http.createServer(() => undefined); // never answers
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.after(() => {
    origin.closeAllConnections();
    origin.close();
  });
  const gone = new ClientGone();
  const pending = request(`http://127.0.0.1:${(origin.address() as AddressInfo).port}/`, { signal: gone as never });
  setTimeout(() => gone.abort(), 30);
  await assert.rejects(pending, { code: 'UND_ERR_ABORTED' });
  assert.equal(gone.listenerCount('abort'), 0);
});

test('waitUnlessCancelled resolves after the wait and rejects at once on cancel, leaving no listener', async () => {
  const gone = new ClientGone();
  await waitUnlessCancelled(5, gone);
  assert.equal(gone.listenerCount('abort'), 0);
  const waiting = waitUnlessCancelled(60_000, gone);
  gone.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  assert.equal(gone.listenerCount('abort'), 0);
  await assert.rejects(waitUnlessCancelled(5, gone), { name: 'AbortError' });
  const controller = new AbortController();
  const viaSignal = waitUnlessCancelled(60_000, controller.signal);
  controller.abort();
  await assert.rejects(viaSignal);
});

test('a client that leaves before the upstream answers does not count against the target', async (t) => {
  let seen = 0;
  const upstreamClosed: Promise<unknown>[] = [];
  const origin = http.createServer((req) => {
    seen++;
    upstreamClosed.push(once(req.socket, 'close')); // never answered: the client leaves first
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.after(() => {
    origin.closeAllConnections();
    origin.close();
  });
  const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const gw = await startGateway({
    'routes.d/a.yaml': `services:\n  svc:\n    discovery: { static: ["${url}"] }\n    healthCheck: { passive: { failures: 1, ejectFor: 30s } }\nroutes:\n  - { id: r, match: { path: /* }, upstream: { service: svc } }\n`,
  });
  t.after(() => gw.close());
  const svc = gw.gateway.serviceSet.get('svc')!;

  const client = new AbortController();
  const pending = request(`${gw.url}/slow`, { signal: client.signal }).catch((err: Error) => err);
  await waitFor(() => seen === 1, 'the upstream to get the request', 5_000);
  client.abort();
  assert.equal(((await pending) as Error).name, 'AbortError');
  await upstreamClosed[0]; // the gateway cancelled its upstream call
  const target = svc.describe().targets[0]!;
  assert.equal(target.ejected, false);
  assert.equal(target.available, true);
});
