/** The gateway's one Redis connection as plugins see it (PluginContext.redis). */

export type RedisOnError = 'allow' | 'deny';

/** A Redis command failed, was refused or did not answer within commandTimeout. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

export interface SharedRedis {
  /** `redis.keyPrefix` from gatehouse.yaml. */
  readonly keyPrefix: string;
  /** `redis.commandTimeout` in ms: every command below settles within it. */
  readonly commandTimeout: number;
  /** `redis.onError`: what a plugin that guards requests does while Redis is unavailable. */
  readonly onError: RedisOnError;
  /** True while the connection is up and the last command succeeded. */
  readonly healthy: boolean;
  /**
   * `keyPrefix + "{" + tag + "}" + rest`. Keys sharing a tag hash to one Redis Cluster slot,
   * so a multi-key script over them runs on one shard.
   */
  key(tag: string, rest?: string): string;
  /** Runs a Lua script (EVALSHA, EVAL when the node has not seen it). Rejects with RedisUnavailableError. */
  eval(script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  getBuffer(key: string): Promise<Buffer | null>;
  /** SET key value PX ttlMs. */
  set(key: string, value: Buffer | string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
}
