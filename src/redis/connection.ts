/**
 * The gateway's one Redis connection (single node from `redis.url`, or Redis Cluster from
 * `redis.cluster`), shared by every plugin. Commands never wait longer than commandTimeout,
 * are never queued while disconnected (a queued rate-limit hit replayed later would count
 * twice), and the client reconnects by itself; loss and recovery are logged.
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import { lazyModule } from '../lazy-module.js';
import type { Settings } from '../config/schema.js';
import { RedisUnavailableError, type SharedRedis } from './shared-redis.js';

export type RedisSettings = NonNullable<Settings['redis']>;

export interface RedisConnection extends SharedRedis {
  /** The ioredis client, for gateway parts that need more than SharedRedis (discovery). */
  readonly client: Redis | Cluster;
  /** Times the connection came back after being lost. */
  readonly reconnects: number;
  /** Resolves once connected, or after `ms` if Redis is not reachable (the gateway starts anyway). */
  waitUntilReady(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Reconnect quickly at first, then every second at most. */
const retryDelay = (times: number): number => Math.min(50 * times, 1000);

function parseHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
}

const ioredis = lazyModule<typeof import('ioredis')>('ioredis');

function createClient(settings: RedisSettings): Redis | Cluster {
  const { Cluster, Redis } = ioredis();
  const common = {
    commandTimeout: settings.commandTimeout,
    connectTimeout: Math.max(1000, settings.commandTimeout),
    // Sent-but-unanswered commands are not replayed after a reconnect: their callers have already decided.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
  };
  if (settings.cluster) {
    return new Cluster(settings.cluster.map(parseHostPort), {
      enableOfflineQueue: false,
      clusterRetryStrategy: retryDelay,
      slotsRefreshTimeout: Math.max(1000, settings.commandTimeout),
      retryDelayOnClusterDown: 50,
      retryDelayOnTryAgain: 50,
      redisOptions: common,
    });
  }
  return new Redis(settings.url ?? 'redis://127.0.0.1:6379/0', { ...common, enableOfflineQueue: false, retryStrategy: retryDelay });
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export function connectRedis(settings: RedisSettings, logger: FastifyBaseLogger): RedisConnection {
  const log = logger.child({ component: 'redis' });
  const client = createClient(settings);
  const where = settings.cluster ? `cluster ${settings.cluster.join(',')}` : (settings.url ?? 'redis://127.0.0.1:6379/0').replace(/\/\/[^@/]*@/, '//***@');
  let up = false;
  let everUp = false;
  let lastOk = true;
  let reconnects = 0;
  let closing = false;
  const shas = new Map<string, string>();

  client.on('ready', () => {
    up = true;
    if (everUp) {
      reconnects++;
      log.info({ redis: where, reconnects }, 'redis connection recovered');
    } else log.info({ redis: where }, 'redis connected');
    everUp = true;
  });
  client.on('close', () => {
    if (up && !closing) log.warn({ redis: where }, 'redis connection lost; reconnecting');
    up = false;
  });
  // ioredis reports every failed reconnect attempt here; the state changes above are what matter.
  client.on('error', (err: Error) => log.debug({ redis: where, err: err.message }, 'redis error'));

  /** Settles within commandTimeout whatever Redis does; tracks health for the logs. */
  async function run<T>(what: string, command: () => Promise<T>): Promise<T> {
    if (!up) {
      noteFailure(`not connected (${what})`);
      throw new RedisUnavailableError(`redis is not connected`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`redis did not answer ${what} within ${settings.commandTimeout}ms`)), settings.commandTimeout);
    });
    try {
      const result = await Promise.race([command(), timeout]);
      if (!lastOk) {
        lastOk = true;
        log.info({ redis: where }, 'redis commands succeed again');
      }
      return result;
    } catch (err) {
      const e = err instanceof RedisUnavailableError ? err : new RedisUnavailableError(`redis ${what} failed: ${(err as Error).message}`);
      noteFailure(e.message);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  function noteFailure(message: string): void {
    if (lastOk) {
      lastOk = false;
      log.warn({ redis: where, err: message, onError: settings.onError }, 'redis unavailable; applying redis.onError');
    }
  }

  async function evalScript(script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    let sha = shas.get(script);
    if (!sha) shas.set(script, (sha = sha1(script)));
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return await client.eval(script, keys.length, ...keys, ...args);
    }
  }

  return {
    client,
    keyPrefix: settings.keyPrefix,
    commandTimeout: settings.commandTimeout,
    onError: settings.onError,
    get healthy() {
      return up && lastOk;
    },
    get reconnects() {
      return reconnects;
    },
    key: (tag, rest = '') => `${settings.keyPrefix}{${tag}}${rest}`,
    eval: (script, keys, args) => run('EVAL', () => evalScript(script, keys, args)),
    getBuffer: (key) => run('GET', () => client.getBuffer(key)),
    set: async (key, value, ttlMs) => {
      await run('SET', () => client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs))));
    },
    del: async (key) => {
      await run('DEL', () => client.del(key));
    },
    waitUntilReady(ms) {
      if (up) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          client.off('ready', onReady);
          log.warn({ redis: where, waitedMs: ms }, 'redis not reachable yet; starting anyway (redis.onError applies until it is)');
          resolve(false);
        }, ms);
        const onReady = () => {
          clearTimeout(timer);
          resolve(true);
        };
        client.once('ready', onReady);
      });
    },
    async close() {
      closing = true;
      // QUIT may never be answered by a stopped server: give it a moment, then drop the socket.
      const quit = client.quit().catch(() => undefined);
      const grace = new Promise((r) => setTimeout(r, Math.max(100, settings.commandTimeout)).unref());
      await Promise.race([quit, grace]);
      client.disconnect();
    },
  };
}
