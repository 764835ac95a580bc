/**
 * A JSON Web Key Set fetched from an identity provider and kept in memory.
 *
 * - Fetched on first use; concurrent lookups share one fetch.
 * - An unknown `kid` refetches the set, at most once per `cooldown` however many unknown kids
 *   arrive, so a flood of random kids cannot hammer the IdP. The kid is only ever a map key.
 * - Refreshed in the background once the set is older than `refreshInterval` (driven by traffic,
 *   so an idle route costs nothing and no timer outlives a reload).
 * - A failed fetch (down, slow, non-2xx, not JSON, no usable key) keeps the last good set.
 *   With no good set yet, lookups answer `unavailable`; retries are spaced by `coldRetry`.
 */
import type { FastifyBaseLogger } from 'fastify';
import { fetchJson } from './fetch-json.js';

export interface JwksOptions<T> {
  uri: string;
  timeout: number;
  cooldown: number;
  refreshInterval: number;
  /** Spacing of fetch attempts while no good set has been fetched yet. */
  coldRetry?: number;
  maxBytes?: number;
  logger: FastifyBaseLogger;
  /** Turns one JWK into a usable entry, or says why it is skipped. */
  build(jwk: Record<string, unknown>): { entry: T } | { skip: string };
  now?: () => number;
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
  private fetchedAt = -Infinity;
  private lastAttempt = -Infinity;
  private inflight: Promise<void> | undefined;
  private lastError = 'not fetched yet';
  /** Number of fetches started (for tests and logs). */
  fetches = 0;
  private readonly opts: JwksOptions<T>;
  private readonly now: () => number;

  constructor(opts: JwksOptions<T>) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** The key for `kid` (or the only/anonymous key when the token has none). */
  async lookup(kid: string | undefined, matches: (entry: T) => boolean): Promise<JwksLookup<T>> {
    if (!this.set) {
      await this.refresh(this.opts.coldRetry ?? Math.min(this.opts.cooldown, 1000));
      if (!this.set) return { unavailable: this.lastError };
    } else if (this.now() - this.fetchedAt >= this.opts.refreshInterval) {
      void this.refresh(this.opts.cooldown);
    }
    let hit = this.pick(kid, matches);
    if (hit !== undefined) return { found: hit };
    if (kid === undefined || !PLAUSIBLE_KID.test(kid)) return { unknown: kid === undefined ? 'the token has no kid and no single key fits it' : 'the token names an unknown key' };
    await this.refresh(this.opts.cooldown);
    hit = this.pick(kid, matches);
    return hit !== undefined ? { found: hit } : { unknown: 'the token names an unknown key' };
  }

  private pick(kid: string | undefined, matches: (entry: T) => boolean): T | undefined {
    const set = this.set;
    if (!set) return undefined;
    if (kid !== undefined) {
      // The caller checks the algorithm against the named key itself (and says so).
      return set.byKid.get(kid);
    }
    const fits = (set.anonymous.length > 0 ? set.anonymous : set.all).filter(matches);
    return fits.length === 1 ? fits[0] : undefined;
  }

  /** Starts a fetch unless one is running or the last one started less than `spacing` ms ago; resolves when it is done. */
  private refresh(spacing: number): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.now() - this.lastAttempt < spacing) return Promise.resolve();
    this.lastAttempt = this.now();
    this.fetches++;
    this.inflight = this.fetchOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    const { uri, timeout, logger } = this.opts;
    const res = await fetchJson(uri, { timeout, maxBytes: this.opts.maxBytes ?? 1024 * 1024 });
    const parsed = res.ok ? this.parse(res.json) : { error: res.reason };
    if ('error' in parsed) {
      this.lastError = `the JWKS at ${uri} could not be used: ${parsed.error}`;
      logger.warn({ jwksUri: uri, reason: parsed.error, keptKeys: this.set?.all.length ?? 0 }, 'JWKS refresh failed; keeping the last good keys');
      return;
    }
    this.set = parsed;
    this.fetchedAt = this.now();
    logger.debug({ jwksUri: uri, keys: parsed.all.length }, 'JWKS fetched');
  }

  private parse(json: unknown): KeySet<T> | { error: string } {
    const keys = (json as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) return { error: 'no "keys" list' };
    const set: KeySet<T> = { byKid: new Map(), anonymous: [], all: [] };
    const skipped: string[] = [];
    for (const jwk of keys) {
      if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) {
        skipped.push('an entry is not an object');
        continue;
      }
      let made: { entry: T } | { skip: string };
      try {
        made = this.opts.build(jwk as Record<string, unknown>);
      } catch (err) {
        made = { skip: (err as Error).message };
      }
      if ('skip' in made) {
        skipped.push(made.skip);
        continue;
      }
      const entry = made.entry;
      const kid = (jwk as { kid?: unknown }).kid;
      if (typeof kid === 'string' && kid !== '') {
        if (set.byKid.has(kid)) {
          skipped.push(`kid ${JSON.stringify(kid)} appears twice`);
          continue;
        }
        set.byKid.set(kid, entry);
      } else set.anonymous.push(entry);
      set.all.push(entry);
    }
    if (skipped.length > 0) this.opts.logger.warn({ jwksUri: this.opts.uri, skipped }, 'JWKS keys skipped');
    if (set.all.length === 0) return { error: 'no usable key' };
    return set;
  }
}
