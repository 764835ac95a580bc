/**
 * The raw key list of one JWKS URI, shared by every route (and every reload) that uses it, so a
 * reload while the IdP is down keeps the last good keys and routes on one IdP share its fetches.
 * Callers pass the spacing they allow between fetches; one fetch runs at a time.
 */
import type { FastifyBaseLogger } from 'fastify';
import { fetchJson } from './fetch-json.js';

export class JwksSource {
  readonly uri: string;
  /** The last good `keys` list, or undefined before the first good fetch. */
  keys: readonly Record<string, unknown>[] | undefined;
  /** Bumped on every good fetch. */
  version = 0;
  fetchedAt = -Infinity;
  lastError = 'not fetched yet';
  /** Fetches started (for tests and logs). */
  fetches = 0;
  private lastAttempt = -Infinity;
  private inflight: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(uri: string, now: () => number = Date.now) {
    this.uri = uri;
    this.now = now;
  }

  /** Starts a fetch unless one is running or the last one started less than `spacing` ms ago; resolves when it is done. */
  refresh(spacing: number, timeout: number, logger: FastifyBaseLogger): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.now() - this.lastAttempt < spacing) return Promise.resolve();
    this.lastAttempt = this.now();
    this.fetches++;
    this.inflight = this.fetchOnce(timeout, logger)
      .catch((err: unknown) => {
        this.lastError = `the JWKS at ${this.uri} could not be used: ${(err as Error).message}`;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private async fetchOnce(timeout: number, logger: FastifyBaseLogger): Promise<void> {
    const res = await fetchJson(this.uri, { timeout, maxBytes: 1024 * 1024 });
    let reason: string | undefined;
    let keys: Record<string, unknown>[] | undefined;
    if (!res.ok) reason = res.reason;
    else {
      const list = (res.json as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(list)) reason = 'no "keys" list';
      else {
        keys = list.filter((k): k is Record<string, unknown> => !!k && typeof k === 'object' && !Array.isArray(k));
        if (keys.length === 0) reason = 'the "keys" list holds no key';
      }
    }
    if (reason !== undefined || !keys) {
      this.lastError = `the JWKS at ${this.uri} could not be used: ${reason}`;
      logger.warn({ jwksUri: this.uri, reason, haveKeys: this.keys !== undefined }, 'JWKS fetch failed; keeping the last good keys');
      return;
    }
    this.keys = keys;
    this.version++;
    this.fetchedAt = this.now();
    logger.debug({ jwksUri: this.uri, keys: keys.length }, 'JWKS fetched');
  }
}

const shared = new Map<string, JwksSource>();

/** The process-wide source for `uri`. */
export function jwksSource(uri: string): JwksSource {
  let s = shared.get(uri);
  if (!s) shared.set(uri, (s = new JwksSource(uri)));
  return s;
}
