/**
 * Dependencies the config may never need (etcd3, ioredis, the OpenTelemetry SDK, grpc-js,
 * protobufjs), loaded on first use instead of at startup: a gateway without etcd discovery,
 * Redis, tracing or gRPC does not hold them in memory (tens of MB each with their own
 * dependencies). They are CommonJS packages, so `require` loads them synchronously where
 * they are first used.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** A function that returns the module `id`, loading it on its first call. */
export function lazyModule<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(id) as T);
}
