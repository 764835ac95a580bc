/**
 * `discovery.redis`: the targets are the members of the sorted set `key` (verbatim, not under
 * redis.keyPrefix), each a URL or `{"url": ..., "weight": N}` JSON, scored with its expiry in
 * epoch ms. Polled every second for members not yet expired, so joins and expiries show within
 * about a second of happening; on Redis errors the last good list stays.
 */
import type { RedisSettings } from '../config/schema.js';
import type { TargetSpec } from '../config/snapshot.js';
import { announcer } from './announce.js';
import { silentDiscoveryLogger, type DiscoveryLogger } from './log.js';
import type { DiscoveryProvider } from './provider.js';
import { connectRedis } from './redis-connect.js';
import { parseTargetValue } from './target-value.js';

export interface RedisDiscoveryOptions {
  readonly key: string;
  /** How often the set is read, in ms. */
  readonly interval?: number;
}

export const REDIS_POLL_INTERVAL = 1000;

export function redisDiscovery(
  options: RedisDiscoveryOptions,
  settings: Pick<RedisSettings, 'url' | 'cluster' | 'commandTimeout'>,
  protocol: string,
  logger: DiscoveryLogger = silentDiscoveryLogger,
): DiscoveryProvider {
  return {
    watch(onTargets) {
      const client = connectRedis({ url: settings.url, cluster: settings.cluster, commandTimeout: settings.commandTimeout, connectionName: 'gatehouse-discovery' });
      const describe = { key: options.key };
      const announce = announcer(onTargets, () => logger.warn(describe, 'redis discovery: no live members; keeping the last good targets'));
      const badMembers = new Set<string>();
      let stopped = false;
      let polling = false;
      let failing = false;

      const fail = (reason: string) => {
        if (!failing) logger.warn({ ...describe, reason }, 'redis discovery: cannot read the registry; keeping the last good targets');
        failing = true;
      };
      async function poll(): Promise<void> {
        if (stopped || polling) return;
        polling = true;
        try {
          // `(now`: a member whose expiry is now has expired.
          const members = await client.zrangebyscore(options.key, `(${Date.now()}`, '+inf');
          if (stopped) return;
          const targets: TargetSpec[] = [];
          for (const member of members) {
            const read = parseTargetValue(member, protocol);
            if (read.ok) targets.push(read.target);
            else if (!badMembers.has(member)) {
              badMembers.add(member);
              logger.warn({ ...describe, member, reason: read.reason }, 'redis discovery: ignoring a member that is not a target');
            }
          }
          if (failing) logger.info(describe, 'redis discovery: reading the registry again');
          failing = false;
          if (announce(targets)) logger.info({ ...describe, targets: targets.map((t) => t.url) }, 'redis discovery: targets changed');
        } catch (err) {
          fail((err as Error).message);
        } finally {
          polling = false;
        }
      }

      client.on('error', (err: Error) => fail(err.message));
      client.on('ready', () => void poll());
      const timer = setInterval(() => void poll(), options.interval ?? REDIS_POLL_INTERVAL);
      timer.unref();
      return () => {
        stopped = true;
        clearInterval(timer);
        client.disconnect();
      };
    },
  };
}
