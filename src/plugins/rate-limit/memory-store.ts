/**
 * In-process counters, used when `redis` is not configured. Same algorithms as the Redis
 * store: fixed windows aligned to the clock, or an exact sliding log. Stores outlive a
 * config reload (one per route and policy), so a reload does not reset anyone's limit.
 */
import type { Clock, LimitPolicy, LimitStore, Verdict } from './store.js';

class MemoryStore implements LimitStore {
  private readonly fixed = new Map<string, { w: number; c: number }>();
  private readonly logs = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(
    private readonly policy: LimitPolicy,
    private readonly now: Clock,
  ) {}

  async hit(key: string): Promise<Verdict> {
    const now = this.now();
    this.sweep(now);
    return this.policy.algorithm === 'sliding-window' ? this.sliding(key, now) : this.fixedWindow(key, now);
  }

  private fixedWindow(key: string, now: number): Verdict {
    const { limit, windowMs } = this.policy;
    const w = Math.floor(now / windowMs);
    let e = this.fixed.get(key);
    if (!e || e.w !== w) this.fixed.set(key, (e = { w, c: 0 }));
    e.c++;
    const resetMs = (w + 1) * windowMs - now;
    return e.c > limit ? { allowed: false, remaining: 0, resetMs } : { allowed: true, remaining: limit - e.c, resetMs };
  }

  private sliding(key: string, now: number): Verdict {
    const { limit, windowMs } = this.policy;
    let log = this.logs.get(key);
    if (!log) this.logs.set(key, (log = []));
    const horizon = now - windowMs;
    let drop = 0;
    while (drop < log.length && log[drop]! <= horizon) drop++;
    if (drop > 0) log.splice(0, drop);
    const allowed = log.length < limit;
    if (allowed) log.push(now);
    const resetMs = log.length > 0 ? log[0]! + windowMs - now : windowMs;
    return { allowed, remaining: limit - log.length, resetMs };
  }

  /** Forgets idle keys, at most once per window. */
  private sweep(now: number): void {
    const { windowMs } = this.policy;
    if (now - this.lastSweep < windowMs) return;
    this.lastSweep = now;
    const w = Math.floor(now / windowMs);
    for (const [k, e] of this.fixed) if (e.w !== w) this.fixed.delete(k);
    for (const [k, log] of this.logs) if (log.length === 0 || log[log.length - 1]! <= now - windowMs) this.logs.delete(k);
  }
}

const shared = new Map<string, MemoryStore>();

/** The memory store of one route and policy; the same one across reloads. */
export function memoryStore(routeId: string, policy: LimitPolicy, now: Clock = Date.now): LimitStore {
  if (now !== Date.now) return new MemoryStore(policy, now);
  const id = `${routeId}\u0000${policy.algorithm}\u0000${policy.limit}\u0000${policy.windowMs}`;
  let store = shared.get(id);
  if (!store) shared.set(id, (store = new MemoryStore(policy, now)));
  return store;
}
