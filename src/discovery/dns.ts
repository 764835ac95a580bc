/**
 * `discovery.dns`: SRV (priority, weight and port from the records) or A/AAAA (the configured
 * port). Looks names up again when the answers' TTL runs out (A/AAAA) or every `refresh`,
 * whichever comes first; a failed or empty answer keeps the last good target list.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { TargetSpec } from '../config/snapshot.js';
import { announcer } from './announce.js';
import { silentDiscoveryLogger, type DiscoveryLogger } from './log.js';
import type { DiscoveryProvider } from './provider.js';
import { MAX_WEIGHT } from './target-value.js';
import { targetUrlOf } from './target-url.js';

export interface DnsDiscoveryOptions {
  readonly name: string;
  readonly type: 'SRV' | 'A' | 'AAAA';
  /** A/AAAA targets' port. */
  readonly port: number;
  /** Longest pause between lookups, in ms. */
  readonly refresh: number;
  readonly servers?: readonly string[];
}

/** Shortest pause between lookups, whatever the TTL says (TTL 0 is common for local records). */
const MIN_PAUSE = 1000;
/** A failed lookup is tried again after at most this long. */
const MAX_RETRY = 5000;

interface Answer {
  targets: TargetSpec[];
  /** Seconds until the answer expires, when the records say. */
  ttl?: number;
}

/** A resolver on the configured servers (or the system's), failing fast enough to retry on schedule. */
export function makeResolver(servers?: readonly string[]): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  if (servers) resolver.setServers([...servers]);
  return resolver;
}

async function addresses(resolver: Resolver, type: 'A' | 'AAAA', name: string): Promise<{ address: string; ttl: number }[]> {
  return type === 'A' ? resolver.resolve4(name, { ttl: true }) : resolver.resolve6(name, { ttl: true });
}

/**
 * With configured servers, an SRV target's own name is looked up on those servers too
 * (the system resolver, which the connection would use, may not know it: Consul's .consul
 * names, a cluster's pod names). Without, the name is kept and resolved when connecting.
 */
async function srvHosts(resolver: Resolver, host: string, viaServers: boolean): Promise<string[]> {
  if (!viaServers || isIP(host)) return [host];
  for (const type of ['A', 'AAAA'] as const) {
    try {
      const found = await addresses(resolver, type, host);
      if (found.length > 0) return found.map((a) => a.address);
    } catch {
      /* try the other family, then keep the name */
    }
  }
  return [host];
}

async function lookup(resolver: Resolver, options: DnsDiscoveryOptions, protocol: string): Promise<Answer> {
  if (options.type !== 'SRV') {
    const found = await addresses(resolver, options.type, options.name);
    return {
      targets: found.map((a) => ({ url: targetUrlOf(protocol, a.address, options.port), weight: 1 })),
      ttl: found.length > 0 ? Math.min(...found.map((a) => a.ttl)) : undefined,
    };
  }
  const records = await resolver.resolveSrv(options.name);
  if (records.length === 0) return { targets: [] };
  // Only the most preferred (lowest) priority is used while it has records (RFC 2782).
  const best = Math.min(...records.map((r) => r.priority));
  const targets: TargetSpec[] = [];
  for (const r of records.filter((x) => x.priority === best)) {
    const weight = Math.min(MAX_WEIGHT, Math.max(1, r.weight));
    for (const host of await srvHosts(resolver, r.name, options.servers !== undefined)) {
      targets.push({ url: targetUrlOf(protocol, host, r.port), weight });
    }
  }
  return { targets };
}

export function dnsDiscovery(options: DnsDiscoveryOptions, protocol: string, logger: DiscoveryLogger = silentDiscoveryLogger): DiscoveryProvider {
  return {
    watch(onTargets) {
      const resolver = makeResolver(options.servers);
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      /** The reason of the failure going on, if any (each new reason is logged once). */
      let failing: string | undefined;
      const announce = announcer(onTargets);
      const describe = { name: options.name, type: options.type };

      const schedule = (ms: number) => {
        if (stopped) return;
        timer = setTimeout(run, ms);
        timer.unref();
      };
      const fail = (reason: string) => {
        if (failing !== reason) logger.warn({ ...describe, reason }, 'dns discovery: lookup failed; keeping the last good targets');
        failing = reason;
        schedule(Math.min(options.refresh, MAX_RETRY));
      };
      async function run(): Promise<void> {
        let answer: Answer;
        try {
          answer = await lookup(resolver, options, protocol);
        } catch (err) {
          if (!stopped) fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
          return;
        }
        if (stopped) return;
        if (answer.targets.length === 0) return fail('empty answer');
        if (failing) logger.info(describe, 'dns discovery: answering again');
        failing = undefined;
        if (announce(answer.targets)) logger.info({ ...describe, targets: answer.targets.map((t) => t.url) }, 'dns discovery: targets changed');
        const byTtl = answer.ttl === undefined ? options.refresh : Math.max(MIN_PAUSE, answer.ttl * 1000);
        schedule(Math.min(options.refresh, byTtl));
      }

      void run();
      return () => {
        stopped = true;
        clearTimeout(timer);
        resolver.cancel();
      };
    },
  };
}
