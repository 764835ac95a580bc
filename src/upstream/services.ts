/** The live services of a running gateway; a reload keeps every service whose config did not change. */
import type { ServiceEntry } from '../config/snapshot.js';
import { UpstreamService, type ServiceOptions } from './service.js';

export class ServiceSet {
  private services = new Map<string, UpstreamService>();
  private readonly options: ServiceOptions;

  constructor(options: ServiceOptions = {}) {
    this.options = options;
  }

  get(name: string): UpstreamService | undefined {
    return this.services.get(name);
  }

  all(): IterableIterator<UpstreamService> {
    return this.services.values();
  }

  /**
   * Makes the set match `wanted`. Returns the services that are no longer used: close them
   * once the app that used them has drained.
   */
  sync(wanted: ReadonlyMap<string, ServiceEntry>): UpstreamService[] {
    const next = new Map<string, UpstreamService>();
    const retired: UpstreamService[] = [];
    for (const [name, entry] of wanted) {
      const current = this.services.get(name);
      if (current && current.config.fingerprint === entry.fingerprint) next.set(name, current);
      else next.set(name, new UpstreamService(entry, undefined, this.options));
    }
    for (const [name, svc] of this.services) if (next.get(name) !== svc) retired.push(svc);
    this.services = next;
    return retired;
  }

  /** The current name -> service map, to restore after a failed build. */
  snapshot(): ReadonlyMap<string, UpstreamService> {
    return new Map(this.services);
  }

  /** Puts back an earlier map; returns the services that were made since and are now unused. */
  restore(previous: ReadonlyMap<string, UpstreamService>): UpstreamService[] {
    const keep = new Set(previous.values());
    const made = [...this.services.values()].filter((s) => !keep.has(s));
    this.services = new Map(previous);
    return made;
  }

  async close(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.close()));
    this.services.clear();
  }
}
