/** An ioredis client (single node or cluster) for discovery, from gatehouse.yaml's `redis` settings. */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { lazyModule } from '../lazy-module.js';

const ioredis = lazyModule<typeof import('ioredis')>('ioredis');

export type RedisClient = Redis | Cluster;

export interface RedisConnectOptions {
  readonly url?: string;
  readonly cluster?: readonly string[];
  /** Per-command timeout in ms; discovery never waits less than a second. */
  readonly commandTimeout?: number;
  /** Queue commands while (re)connecting instead of failing them at once. */
  readonly offlineQueue?: boolean;
  readonly connectionName?: string;
}

const MIN_COMMAND_TIMEOUT = 1000;

export function connectRedis(options: RedisConnectOptions): RedisClient {
  const { Cluster, Redis } = ioredis();
  const common: RedisOptions = {
    commandTimeout: Math.max(options.commandTimeout ?? 0, MIN_COMMAND_TIMEOUT),
    enableOfflineQueue: options.offlineQueue ?? false,
    maxRetriesPerRequest: 1,
    // Keep trying to reconnect, at most every 2 s: discovery must recover by itself.
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  };
  if (options.cluster && options.cluster.length > 0) {
    const nodes = options.cluster.map((hp) => {
      const colon = hp.lastIndexOf(':');
      return { host: hp.slice(0, colon), port: Number(hp.slice(colon + 1)) };
    });
    return new Cluster(nodes, { redisOptions: common, enableOfflineQueue: common.enableOfflineQueue ?? false, clusterRetryStrategy: (n: number) => Math.min(n * 200, 2000) });
  }
  return new Redis(options.url ?? 'redis://127.0.0.1:6379', common);
}
