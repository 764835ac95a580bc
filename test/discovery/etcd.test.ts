import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TargetSpec } from '../../src/config/snapshot.js';
import { etcdDiscovery } from '../../src/discovery/etcd.js';
import { startEtcd } from '../helpers/etcd.js';
import { startGateway } from '../helpers/gateway.js';
import { eventually, namedOrigin, servedBy, startTraffic, teardown } from '../helpers/traffic.js';

const PREFIX = '/services/svc/';

test('etcd: puts and deletes under the prefix reach the gateway through the watch while requests keep succeeding', async (t) => {
  const later = teardown(t);
  const [a, b, c] = await Promise.all([namedOrigin('a'), namedOrigin('b'), namedOrigin('c')]);
  later(() => Promise.all([a.close(), b.close(), c.close()]));
  const etcd = await startEtcd();
  later(() => etcd.close());
  await etcd.put(`${PREFIX}a`, a.url);
  await etcd.put('/services/other/x', b.url); // outside the prefix: never a target
  const gw = await startGateway({
    'routes.d/svc.yaml': `services:\n  svc:\n    discovery:\n      etcd: { endpoints: ["${etcd.endpoint}"], prefix: ${PREFIX} }\nroutes:\n  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`,
  });
  later(() => gw.close());

  // The gateway waited for the first list before serving.
  assert.equal((await fetch(`${gw.url}/`)).status, 200);
  const traffic = startTraffic(`${gw.url}/`);
  later(() => traffic.stop());
  await eventually('a serves alone', servedBy(traffic, ['a']));

  await etcd.put(`${PREFIX}b`, JSON.stringify({ url: b.url, weight: 2 }));
  await eventually('a and b serve', servedBy(traffic, ['a', 'b']));
  const svc = gw.gateway.serviceSet.get('svc')!;
  const weights = new Map(svc.list().map((x) => [x.url, x.weight]));
  assert.deepEqual(weights, new Map([[a.url, 1], [b.url, 2]]));

  await etcd.put(`${PREFIX}c`, c.url);
  await etcd.del(`${PREFIX}a`);
  await eventually('b and c serve', servedBy(traffic, ['b', 'c']));

  await traffic.stop();
  assert.deepEqual(traffic.failures, []);
});

test('etcd unreachable keeps the last good list; after it returns the watch resumes', async (t) => {
  const later = teardown(t);
  const etcd = await startEtcd();
  later(() => etcd.close());
  await etcd.put(`${PREFIX}a`, 'http://127.0.0.1:3001');
  await etcd.put(`${PREFIX}junk`, 'not a url'); // ignored, the rest still counts
  const lists: TargetSpec[][] = [];
  const warnings: string[] = [];
  const logger = { info: () => undefined, warn: (_o: object, msg: string) => void warnings.push(msg) };
  const stop = etcdDiscovery({ endpoints: [etcd.endpoint], prefix: PREFIX }, 'http', logger).watch((list) => lists.push([...list]));
  later(stop);
  await eventually('the first list', () => lists.length > 0);
  assert.deepEqual(lists[0], [{ url: 'http://127.0.0.1:3001', weight: 1 }]);

  await etcd.stop();
  await eventually('the provider notices etcd is gone', () => warnings.some((w) => w.includes('unreachable')));
  assert.equal(lists.length, 1, 'nothing announced while etcd is down');

  await etcd.start();
  await etcd.put(`${PREFIX}b`, 'http://127.0.0.1:3002');
  await eventually('the change made after etcd returned is seen', () => lists.at(-1)!.length === 2);
  assert.deepEqual(
    lists.at(-1)!.map((x) => x.url).sort(),
    ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'],
  );
});
