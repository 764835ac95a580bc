import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tcpProbe } from '../../src/upstream/tcp-probe.js';
import { UpstreamTarget } from '../../src/upstream/target.js';
import type { ServiceEntry } from '../../src/config/snapshot.js';
import { refusedPort, startTcpService } from '../helpers/tcp.js';

const service = { name: 'tcpsvc', protocol: 'tcp' } as unknown as ServiceEntry;

test('tcp probe: passes when the target accepts a connection, fails with the error code when it refuses', async (t) => {
  const up = await startTcpService('echo');
  t.after(() => up.close());
  const probe = tcpProbe(1000);
  const signal = new AbortController().signal;
  assert.deepEqual(await probe(new UpstreamTarget(up.url, 1, service), signal), { ok: true, reason: 'TCP connect succeeded' });
  assert.equal(up.accepted, 1);
  const down = new UpstreamTarget(`tcp://127.0.0.1:${await refusedPort()}`, 1, service);
  assert.deepEqual(await probe(down, signal), { ok: false, reason: 'TCP connect failed (ECONNREFUSED)' });
});

test('tcp probe: an aborted probe (the check timeout) reports a timeout', async () => {
  const aborter = new AbortController();
  aborter.abort();
  const target = new UpstreamTarget(`tcp://127.0.0.1:${await refusedPort()}`, 1, service);
  assert.deepEqual(await tcpProbe(250)(target, aborter.signal), { ok: false, reason: 'TCP connect timed out after 250ms' });
});
