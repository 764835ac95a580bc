/**
 * The running streams of a gateway. A reload first opens the listeners it needs (new streams,
 * or a changed host/port) so a port that cannot be bound rejects the reload with nothing
 * changed; committing then points kept listeners at their new settings and drains the
 * listeners of removed or moved streams.
 */
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { StreamEntry } from '../config/snapshot.js';
import type { UpstreamService } from '../upstream/service.js';
import type { StreamRoute } from './connection.js';
import { bindKeyOf, StreamListener } from './listener.js';

export interface StreamSetOptions {
  readonly logger: FastifyBaseLogger;
  /** The live service of that name (reloads replace changed services; streams follow). */
  readonly serviceFor: (name: string) => UpstreamService | undefined;
  /** Binds every stream to this address instead of its host (tests: 127.0.0.1). */
  readonly host?: string;
}

/** The listener of each stream of a config that is not serving yet; `opened` are the new ones. */
export interface StreamPlan {
  readonly entries: readonly StreamEntry[];
  readonly listeners: ReadonlyMap<string, StreamListener>;
  readonly opened: ReadonlySet<StreamListener>;
}

export class StreamSet {
  private readonly options: StreamSetOptions;
  private listeners = new Map<string, StreamListener>();
  private readonly draining = new Set<Promise<void>>();

  constructor(options: StreamSetOptions) {
    this.options = options;
  }

  private route(entry: StreamEntry): StreamRoute {
    const { serviceFor, logger } = this.options;
    const secureContext = entry.tlsMaterial ? tls.createSecureContext({ cert: entry.tlsMaterial.cert, key: entry.tlsMaterial.key }) : undefined;
    // The service is looked up per connection, so one replaced by a reload is used at once.
    return {
      entry,
      secureContext,
      logger,
      get service() {
        return serviceFor(entry.service);
      },
    };
  }

  /** Opens the listeners `entries` needs that are not open yet; on a bind failure closes them again and throws. */
  async prepare(entries: readonly StreamEntry[]): Promise<StreamPlan> {
    const listeners = new Map<string, StreamListener>();
    const opened = new Set<StreamListener>();
    // A stream that goes away leaves its address to a new stream with the same one (a renamed id).
    const wanted = new Set(entries.map((e) => e.id));
    const spare = new Map<string, StreamListener>();
    for (const [id, l] of this.listeners) if (!wanted.has(id) && !l.bindKey.endsWith(':0')) spare.set(l.bindKey, l);
    try {
      for (const entry of entries) {
        const key = bindKeyOf(entry);
        const current = this.listeners.get(entry.id);
        let listener = current?.bindKey === key ? current : spare.get(key);
        spare.delete(key);
        if (!listener) {
          listener = await StreamListener.open(this.route(entry), this.options.host ?? entry.host);
          opened.add(listener);
        }
        listeners.set(entry.id, listener);
      }
    } catch (err) {
      await Promise.all([...opened].map((l) => l.close(0)));
      throw err;
    }
    return { entries, listeners, opened };
  }

  /** Serves `plan`: kept listeners take their new settings, the others drain within `graceMs`. */
  commit(plan: StreamPlan, graceMs: number): void {
    const next = new Map<string, StreamListener>();
    const kept = new Set<StreamListener>();
    for (const entry of plan.entries) {
      const listener = plan.listeners.get(entry.id)!;
      kept.add(listener);
      next.set(entry.id, listener);
      if (!plan.opened.has(listener)) {
        listener.update(this.route(entry));
        continue;
      }
      const a = listener.address();
      this.options.logger.info({ stream: entry.id, address: a.address, port: a.port, service: entry.service, tls: Boolean(entry.tlsMaterial) }, 'stream listening');
    }
    for (const [id, listener] of this.listeners) {
      if (kept.has(listener)) continue;
      this.options.logger.info({ stream: id, open: listener.openConnections }, 'stream removed or moved; draining its connections');
      const p = listener.close(graceMs).finally(() => this.draining.delete(p));
      this.draining.add(p);
    }
    this.listeners = next;
  }

  /** Closes listeners a plan opened, when its config does not get to serve. */
  async discard(plan: StreamPlan): Promise<void> {
    await Promise.all([...plan.opened].map((l) => l.close(0)));
  }

  /** The bound address of stream `id` (listen: 0 gets a free port). */
  address(id: string): AddressInfo | undefined {
    return this.listeners.get(id)?.address();
  }

  /** Stops accepting on every stream and drains open connections within `graceMs`, then closes what is left. */
  async close(graceMs: number): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners = new Map();
    await Promise.all([...all.map((l) => l.close(graceMs)), ...this.draining]);
  }
}
