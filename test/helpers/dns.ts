/** A real dnsmasq on a free loopback port, serving the SRV and A/AAAA records a test gives it. */
import { Resolver } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { closedPort } from './upstream.js';
import { spawnProcess, waitUntil, type Spawned } from './spawned.js';

export interface SrvRecord {
  /** e.g. _http._tcp.orders.test */
  name: string;
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface HostRecord {
  name: string;
  /** IPv4 and/or IPv6 addresses. */
  addresses: string[];
}

export interface DnsRecords {
  srv?: SrvRecord[];
  hosts?: HostRecord[];
  /** TTL (seconds) of the answers; 0 by default, as dnsmasq does for local records. */
  ttl?: number;
}

export interface DnsServer {
  port: number;
  /** `127.0.0.1:PORT`, for `dns.servers`. */
  server: string;
  /** Restarts dnsmasq on the same port with these records (queries in between fail). */
  set(records: DnsRecords): Promise<void>;
  /** Stops answering (the process ends); `set` starts it again. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** Debian puts dnsmasq in /usr/sbin, which is not on every PATH. */
const DNSMASQ = existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';

function argsFor(port: number, records: DnsRecords): string[] {
  const args = [
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--conf-file=/dev/null',
    '--keep-in-foreground',
    // Names under .test are answered from these records only: unknown ones get NXDOMAIN, not REFUSED.
    '--local=/test/',
    '--pid-file=',
    '--user=root',
    `--local-ttl=${records.ttl ?? 0}`,
  ];
  for (const s of records.srv ?? []) args.push(`--srv-host=${s.name},${s.target},${s.port},${s.priority ?? 0},${s.weight ?? 0}`);
  for (const h of records.hosts ?? []) args.push(`--host-record=${h.name},${h.addresses.join(',')}`);
  return args;
}

/** Something the records answer, to know dnsmasq is up. */
async function answers(server: string, records: DnsRecords): Promise<boolean> {
  const r = new Resolver({ timeout: 500, tries: 1 });
  r.setServers([server]);
  const srv = records.srv?.[0];
  if (srv) return (await r.resolveSrv(srv.name)).length > 0;
  const host = records.hosts?.[0];
  if (host) return (await r.resolveAny(host.name)).length > 0;
  // No records: any answer (NXDOMAIN included) means it is up.
  return r.resolve4('nothing.invalid').then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code === 'ENOTFOUND' || err.code === 'ENODATA',
  );
}

export async function startDnsServer(records: DnsRecords): Promise<DnsServer> {
  const port = await closedPort();
  const server = `127.0.0.1:${port}`;
  let proc: Spawned | undefined;
  const stop = async () => {
    await proc?.kill();
    proc = undefined;
  };
  const set = async (next: DnsRecords) => {
    await stop();
    proc = spawnProcess(DNSMASQ, argsFor(port, next));
    await waitUntil('dnsmasq', () => answers(server, next), proc);
  };
  await set(records);
  return { port, server, set, stop, close: stop };
}
