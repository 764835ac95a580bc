/**
 * Introspection answers by token hash: active ones until min(exp, cacheTtl), inactive ones for
 * inactiveCacheTtl, failures never. Concurrent lookups of one token share one call.
 */
import { createHash } from 'node:crypto';
import type { Introspection } from './introspect.js';

interface Entry {
  answer: Introspection;
  until: number;
}

export interface AnswerCacheOptions {
  activeTtl: number;
  inactiveTtl: number;
  maxEntries: number;
  now?: () => number;
}

export class AnswerCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Introspection>>();
  private readonly opts: AnswerCacheOptions;
  private readonly now: () => number;

  constructor(opts: AnswerCacheOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  async get(token: string, ask: (token: string) => Promise<Introspection>): Promise<Introspection> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.until > this.now()) return hit.answer;
      this.entries.delete(key);
    }
    const running = this.pending.get(key);
    if (running) return running;
    const call = ask(token)
      .then((answer) => {
        this.remember(key, answer);
        return answer;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, call);
    return call;
  }

  private remember(key: string, answer: Introspection): void {
    if ('failed' in answer || this.opts.maxEntries === 0) return;
    const now = this.now();
    const until = answer.active ? Math.min(now + this.opts.activeTtl, answer.exp ?? Infinity) : now + this.opts.inactiveTtl;
    if (until <= now) return;
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { answer, until });
  }
}
