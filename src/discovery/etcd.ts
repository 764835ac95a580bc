/**
 * `discovery.etcd`: every key under `prefix` is one target, its value a URL or
 * `{"url": ..., "weight": N}`. Reads the prefix once, then follows it with an etcd v3 watch
 * from the revision it read; when the watch breaks it lists and watches again (with backoff).
 * While etcd is unreachable the last good target list stays.
 */
import type { IKeyValue, Watcher } from 'etcd3';
import { lazyModule } from '../lazy-module.js';
import type { TargetSpec } from '../config/snapshot.js';
import { announcer } from './announce.js';
import { silentDiscoveryLogger, type DiscoveryLogger } from './log.js';
import type { DiscoveryProvider } from './provider.js';
import { parseTargetValue } from './target-value.js';

const etcd3 = lazyModule<typeof import('etcd3')>('etcd3');
const cockatiel = lazyModule<typeof import('cockatiel')>('cockatiel');

export interface EtcdDiscoveryOptions {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly username?: string;
  readonly password?: string;
}

const FIRST_BACKOFF = 250;
const MAX_BACKOFF = 2000;
/** After 3 failed calls an endpoint is skipped for this long (etcd3's default is 5 s, slow to notice a restarted etcd). */
const ENDPOINT_PAUSE = 1000;

export function etcdDiscovery(options: EtcdDiscoveryOptions, protocol: string, logger: DiscoveryLogger = silentDiscoveryLogger): DiscoveryProvider {
  return {
    watch(onTargets) {
      const { Etcd3, isRecoverableError } = etcd3();
      const { circuitBreaker, ConsecutiveBreaker, handleWhen } = cockatiel();
      const client = new Etcd3({
        hosts: [...options.endpoints],
        dialTimeout: 2000,
        faultHandling: { host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: ENDPOINT_PAUSE, breaker: new ConsecutiveBreaker(3) }) },
        ...(options.username !== undefined ? { auth: { username: options.username, password: options.password ?? '' } } : {}),
      });
      const describe = { prefix: options.prefix };
      const announce = announcer(onTargets, () => logger.warn(describe, 'etcd discovery: no targets under the prefix; keeping the last good targets'));
      /** key -> target, for keys whose value reads as a target. */
      const entries = new Map<string, TargetSpec>();
      let stopped = false;
      let watcher: Watcher | undefined;
      let timer: NodeJS.Timeout | undefined;
      let backoff = FIRST_BACKOFF;
      let failing = false;

      const publish = () => {
        if (announce([...entries.values()])) logger.info({ ...describe, targets: [...entries.values()].map((t) => t.url) }, 'etcd discovery: targets changed');
      };
      const apply = (kv: IKeyValue) => {
        const key = kv.key.toString();
        const read = parseTargetValue(kv.value.toString(), protocol);
        if (read.ok) entries.set(key, read.target);
        else {
          entries.delete(key);
          logger.warn({ ...describe, key, reason: read.reason }, 'etcd discovery: ignoring a value that is not a target');
        }
      };
      const retry = (reason: string) => {
        if (stopped) return;
        if (!failing) logger.warn({ ...describe, reason }, 'etcd discovery: etcd unreachable; keeping the last good targets');
        failing = true;
        const w = watcher;
        watcher = undefined;
        w?.removeAllListeners();
        w?.on('error', () => undefined);
        void w?.cancel().catch(() => undefined);
        clearTimeout(timer);
        timer = setTimeout(() => void cycle(), backoff);
        timer.unref();
        backoff = Math.min(MAX_BACKOFF, backoff * 2);
      };

      /** List the prefix, then watch it from just after the revision listed. */
      async function cycle(): Promise<void> {
        try {
          const listed = await client.getAll().prefix(options.prefix).exec();
          if (stopped) return;
          if (failing) logger.info(describe, 'etcd discovery: etcd answers again');
          failing = false;
          entries.clear();
          for (const kv of listed.kvs) apply(kv);
          publish();
          const next = (BigInt(listed.header.revision) + 1n).toString();
          // watcher() attaches at once (create() would only resolve once connected, and never while etcd is down),
          // so a disconnect before the watch is established is seen too.
          const w = client.watch().prefix(options.prefix).startRevision(next).watcher();
          watcher = w;
          w.on('put', (kv) => {
            apply(kv);
            publish();
          });
          w.on('delete', (kv) => {
            entries.delete(kv.key.toString());
            publish();
          });
          w.on('disconnected', (err) => retry(`watch disconnected: ${err.message}`));
          w.on('error', (err) => retry(`watch failed: ${err.message}`));
          w.on('connected', () => {
            backoff = FIRST_BACKOFF;
          });
        } catch (err) {
          retry((err as Error).message);
        }
      }

      void cycle();
      return () => {
        stopped = true;
        clearTimeout(timer);
        const w = watcher;
        watcher = undefined;
        w?.removeAllListeners();
        w?.on('error', () => undefined);
        // Cancel the watch first (else the client keeps trying to resume it), but never wait long for a dead etcd.
        const cancelled = w ? Promise.race([w.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]) : Promise.resolve();
        void cancelled.then(() => client.close());
      };
    },
  };
}
