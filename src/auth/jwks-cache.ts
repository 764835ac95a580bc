/**
 * One route's view of a JSON Web Key Set: the shared raw list (jwks-source.ts) turned into
 * verifying keys by the route's own rules.
 *
 * - Fetched on first use; concurrent lookups share one fetch.
 * - An unknown `kid` refetches the set, at most once per `cooldown` however many unknown kids
 *   arrive, so a flood of random kids cannot hammer the IdP. The kid is only ever a map key.
 * - Refreshed in the background once the set is older than `refreshInterval` (driven by traffic,
 *   so an idle route costs nothing and no timer outlives a reload).
 * - A failed fetch (down, slow, non-2xx, not JSON, no usable key) keeps the last good set.
 *   With no good set yet, lookups answer `unavailable`; retries are spaced by min(cooldown, 1s).
 */
import type { FastifyBaseLogger } from 'fastify';
import { jwksSource, type JwksSource } from './jwks-source.js';

export interface JwksOptions<T> {
  uri: string;
  timeout: number;
  cooldown: number;
  refreshInterval: number;
  logger: FastifyBaseLogger;
  /** Turns one JWK into a usable entry, or says why it is skipped. */
  build(jwk: Record<string, unknown>): { entry: T } | { skip: string };
}

export type JwksLookup<T> = { found: T } | { unknown: string } | { unavailable: string };

/** A kid worth a refetch: printable ASCII of sane length. Anything else is simply unknown. */
const PLAUSIBLE_KID = /^[\x21-\x7e]{1,256}$/;

interface KeySet<T> {
  byKid: Map<string, T>;
  /** Keys without a kid, used for tokens without one. */
  anonymous: T[];
  all: T[];
}

export class JwksCache<T> {
  private set: KeySet<T> | undefined;
  private builtFrom = -1;
  private readonly source: JwksSource;
  private readonly opts: JwksOptions<T>;
  private readonly coldRetry: number;

  constructor(opts: JwksOptions<T>) {
    this.opts = opts;
    this.source = jwksSource(opts.uri);
    this.coldRetry = Math.min(opts.cooldown, 1000);
  }

  /** The key for `kid`; for a token without kid, the one key that `fits` (if exactly one does). */
  async lookup(kid: string | undefined, fits: (entry: T) => boolean): Promise<JwksLookup<T>> {
    const { source, opts } = this;
    if (!this.current()) {
      await source.refresh(this.coldRetry, opts.timeout, opts.logger);
      if (!this.current()) return { unavailable: source.lastError };
    } else if (Date.now() - source.fetchedAt >= opts.refreshInterval) {
      void source.refresh(opts.cooldown, opts.timeout, opts.logger);
    }
    let hit = this.pick(kid, fits);
    if (hit !== undefined) return { found: hit };
    if (kid === undefined || !PLAUSIBLE_KID.test(kid)) return { unknown: kid === undefined ? 'the token has no kid and no single key fits it' : 'the token names an unknown key' };
    await source.refresh(opts.cooldown, opts.timeout, opts.logger);
    this.current();
    hit = this.pick(kid, fits);
    return hit !== undefined ? { found: hit } : { unknown: 'the token names an unknown key' };
  }

  /** The route's key set, rebuilt when the source has a newer list; a list with no usable key keeps the old set. */
  private current(): KeySet<T> | undefined {
    const { source } = this;
    if (source.keys && source.version !== this.builtFrom) {
      this.builtFrom = source.version;
      const next = this.build(source.keys);
      if (next.all.length > 0) this.set = next;
      else this.opts.logger.warn({ jwksUri: this.opts.uri, keptKeys: this.set?.all.length ?? 0 }, 'the JWKS holds no usable key; keeping the last good keys');
    }
    return this.set;
  }

  private pick(kid: string | undefined, fits: (entry: T) => boolean): T | undefined {
    const set = this.set;
    if (!set) return undefined;
    // The caller checks the algorithm against a named key itself (and says so).
    if (kid !== undefined) return set.byKid.get(kid);
    const candidates = (set.anonymous.length > 0 ? set.anonymous : set.all).filter(fits);
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  private build(keys: readonly Record<string, unknown>[]): KeySet<T> {
    const set: KeySet<T> = { byKid: new Map(), anonymous: [], all: [] };
    const skipped: string[] = [];
    for (const jwk of keys) {
      let made: { entry: T } | { skip: string };
      try {
        made = this.opts.build(jwk);
      } catch (err) {
        made = { skip: (err as Error).message };
      }
      if ('skip' in made) {
        skipped.push(made.skip);
        continue;
      }
      const kid = jwk.kid;
      if (typeof kid === 'string' && kid !== '') {
        if (set.byKid.has(kid)) {
          skipped.push(`kid ${JSON.stringify(kid)} appears twice`);
          continue;
        }
        set.byKid.set(kid, made.entry);
      } else set.anonymous.push(made.entry);
      set.all.push(made.entry);
    }
    if (skipped.length > 0) this.opts.logger.warn({ jwksUri: this.opts.uri, skipped }, 'JWKS keys skipped');
    return set;
  }
}
