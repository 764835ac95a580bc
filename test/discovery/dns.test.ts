import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TargetSpec } from '../../src/config/snapshot.js';
import { dnsDiscovery, type DnsDiscoveryOptions } from '../../src/discovery/dns.js';
import { startDnsServer } from '../helpers/dns.js';
import { startGateway } from '../helpers/gateway.js';
import { eventually, namedOrigin, servedBy, startTraffic, teardown } from '../helpers/traffic.js';

const SRV = '_http._tcp.svc.test';

function gatewayFiles(dns: string): Record<string, string> {
  return {
    'routes.d/svc.yaml': `services:\n  svc:\n    discovery:\n      dns: ${dns}\nroutes:\n  - id: all\n    match: { path: /* }\n    upstream: { service: svc }\n`,
  };
}

/** Watches a dns provider; `lists` holds every list it announced. */
function watchDns(later: (fn: () => unknown) => void, options: DnsDiscoveryOptions, warnings: string[] = []): TargetSpec[][] {
  const lists: TargetSpec[][] = [];
  const logger = { info: () => undefined, warn: (o: object) => void warnings.push(String((o as { reason?: string }).reason)) };
  const stop = dnsDiscovery(options, 'http', logger).watch((targets) => lists.push([...targets]));
  later(stop);
  return lists;
}

const urls = (list: readonly TargetSpec[] | undefined) => (list ?? []).map((x) => `${x.url} ${x.weight}`).sort();

test('SRV: only the lowest priority group is used, with its weights and ports', async (t) => {
  const later = teardown(t);
  const dns = await startDnsServer({
    srv: [
      { name: SRV, target: 'a.svc.test', port: 3001, priority: 10, weight: 5 },
      { name: SRV, target: 'b.svc.test', port: 3002, priority: 10, weight: 1 },
      { name: SRV, target: 'backup.svc.test', port: 3003, priority: 20, weight: 9 },
    ],
    hosts: [
      { name: 'a.svc.test', addresses: ['127.0.0.11'] },
      { name: 'b.svc.test', addresses: ['127.0.0.12'] },
      { name: 'backup.svc.test', addresses: ['127.0.0.13'] },
    ],
  });
  later(() => dns.close());
  const lists = watchDns(later, { name: SRV, type: 'SRV', port: 80, refresh: 200, servers: [dns.server] });
  await eventually('the provider answers', () => lists.length > 0);
  // With `servers`, SRV target names are looked up on the same servers.
  assert.deepEqual(urls(lists[0]), ['http://127.0.0.11:3001 5', 'http://127.0.0.12:3002 1']);

  // The preferred group empties: the next priority takes over.
  await dns.set({
    srv: [{ name: SRV, target: 'backup.svc.test', port: 3003, priority: 20, weight: 9 }],
    hosts: [{ name: 'backup.svc.test', addresses: ['127.0.0.13'] }],
  });
  await eventually('the backup group is used', () => urls(lists.at(-1))[0] === 'http://127.0.0.13:3003 9');
  assert.deepEqual(urls(lists.at(-1)), ['http://127.0.0.13:3003 9']);
});

test('SRV records changing: targets join and leave through the gateway while requests keep succeeding; DNS down keeps the last answer', async (t) => {
  const later = teardown(t);
  const [a, b, c] = await Promise.all([namedOrigin('a'), namedOrigin('b'), namedOrigin('c')]);
  later(() => Promise.all([a.close(), b.close(), c.close()]));
  const hosts = [{ name: 'node.svc.test', addresses: ['127.0.0.1'] }];
  const dns = await startDnsServer({
    srv: [
      { name: SRV, target: 'node.svc.test', port: a.port, weight: 1 },
      { name: SRV, target: 'node.svc.test', port: b.port, weight: 1 },
    ],
    hosts,
  });
  later(() => dns.close());
  const gw = await startGateway(gatewayFiles(`{ name: ${SRV}, type: SRV, refresh: 200ms, servers: ["${dns.server}"] }`));
  later(() => gw.close());

  await eventually('the first answer is in use', async () => (await fetch(`${gw.url}/`)).status === 200);
  const traffic = startTraffic(`${gw.url}/`);
  later(() => traffic.stop());
  await eventually('a and b serve', servedBy(traffic, ['a', 'b']));

  // c joins, a leaves.
  await dns.set({
    srv: [
      { name: SRV, target: 'node.svc.test', port: b.port, weight: 1 },
      { name: SRV, target: 'node.svc.test', port: c.port, weight: 1 },
    ],
    hosts,
  });
  await eventually('b and c serve', servedBy(traffic, ['b', 'c']));

  // The DNS server goes away: the last good answer stays.
  await dns.stop();
  const mark = traffic.answers.length;
  await eventually('requests go on after DNS stopped', () => traffic.answers.length > mark + 60);
  assert.deepEqual([...traffic.since(mark)].sort(), ['b', 'c']);

  await traffic.stop();
  assert.deepEqual(traffic.failures, []);
  assert.ok(traffic.answers.length > 0);
});

test('SRV weight 0 counts as weight 1; an empty answer keeps the last good list', async (t) => {
  const later = teardown(t);
  const dns = await startDnsServer({ srv: [{ name: SRV, target: '127.0.0.1', port: 3001, weight: 0 }] });
  later(() => dns.close());
  const warnings: string[] = [];
  const lists = watchDns(later, { name: SRV, type: 'SRV', port: 80, refresh: 100, servers: [dns.server] }, warnings);
  await eventually('the provider answers', () => lists.length > 0);
  assert.deepEqual(urls(lists[0]), ['http://127.0.0.1:3001 1']);

  // The name now has no records at all (another name does, so dnsmasq is up and answering).
  const before = warnings.length;
  await dns.set({ srv: [{ name: '_http._tcp.other.test', target: '127.0.0.1', port: 1, weight: 1 }] });
  await eventually('the provider has looked and found nothing', () => warnings.slice(before).includes('ENOTFOUND'));
  assert.equal(lists.length, 1, 'no empty list was announced');
  assert.deepEqual(urls(lists.at(-1)), ['http://127.0.0.1:3001 1']);
});

test('A records: targets are address:port, looked up again when their TTL runs out', async (t) => {
  const later = teardown(t);
  const dns = await startDnsServer({ hosts: [{ name: 'api.svc.test', addresses: ['127.0.0.21'] }], ttl: 1 });
  later(() => dns.close());
  // refresh is an hour: only the 1 s TTL can make the provider look again.
  const lists = watchDns(later, { name: 'api.svc.test', type: 'A', port: 8080, refresh: 3_600_000, servers: [dns.server] });
  await eventually('the provider answers', () => lists.length > 0);
  assert.deepEqual(urls(lists[0]), ['http://127.0.0.21:8080 1']);

  await dns.set({ hosts: [{ name: 'api.svc.test', addresses: ['127.0.0.22'] }], ttl: 1 });
  await eventually('the new address is seen', () => urls(lists.at(-1))[0] === 'http://127.0.0.22:8080 1');
});

test('AAAA records become bracketed IPv6 targets', async (t) => {
  const later = teardown(t);
  const dns = await startDnsServer({ hosts: [{ name: 'v6.svc.test', addresses: ['::1', '127.0.0.1'] }] });
  later(() => dns.close());
  const lists = watchDns(later, { name: 'v6.svc.test', type: 'AAAA', port: 9000, refresh: 1000, servers: [dns.server] });
  await eventually('the provider answers', () => lists.length > 0);
  assert.deepEqual(urls(lists[0]), ['http://[::1]:9000 1']);
});

test('A records through the gateway: served from the first request, and a reload that changes discovery drops no request', async (t) => {
  const later = teardown(t);
  const origin = await namedOrigin('one');
  later(() => origin.close());
  const dns = await startDnsServer({ hosts: [{ name: 'api.svc.test', addresses: ['127.0.0.1'] }] });
  later(() => dns.close());
  const gw = await startGateway(gatewayFiles(`{ name: api.svc.test, type: A, port: ${origin.port}, servers: ["${dns.server}"] }`));
  later(() => gw.close());
  // The gateway waits for a new service's first answer before serving.
  const res = await fetch(`${gw.url}/x`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'one');
  assert.deepEqual(
    gw.gateway.serviceSet.get('svc')!.list().map((x) => x.url),
    [`http://127.0.0.1:${origin.port}`],
  );

  // A changed discovery config makes a new service; it takes over only once it has targets.
  const traffic = startTraffic(`${gw.url}/x`);
  later(() => traffic.stop());
  await eventually('some traffic', () => traffic.answers.length > 10);
  await gw.dir.write('routes.d/svc.yaml', gatewayFiles(`{ name: api.svc.test, type: A, port: ${origin.port}, refresh: 5s, servers: ["${dns.server}"] }`)['routes.d/svc.yaml']!);
  const before = gw.gateway.serviceSet.get('svc');
  assert.deepEqual(await gw.gateway.reload(), { ok: true, generation: 2 });
  assert.notEqual(gw.gateway.serviceSet.get('svc'), before);
  const mark = traffic.answers.length;
  await eventually('traffic after the reload', () => traffic.answers.length > mark + 10);
  await traffic.stop();
  assert.deepEqual(traffic.failures, []);
});
