/**
 * Tokens that verified, remembered by their exact text so a repeated token skips the signature
 * check. An entry answers only while the token would still verify: from its `nbf` and until
 * its `exp` (each widened by the clock tolerance), and for at most ten minutes, as fast-jwt's own
 * cache does. Failures are never remembered. The key is the token itself: a lookup is an exact
 * string match, where fast-jwt's cache hashes each token with SHA-2 first, which costs about as
 * much as checking an HS256 signature.
 */

export type Claims = Record<string, unknown>;

interface Entry {
  readonly claims: Claims;
  /** Epoch ms from which, and until which, the token verifies. */
  readonly from: number;
  readonly until: number;
}

/** How long a verified token is remembered at most, whatever its `exp`. */
export const REMEMBER_MS = 600_000;

export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** Most tokens remembered; the oldest entry goes first. */
    private readonly size: number,
    private readonly toleranceMs: number,
  ) {}

  get(token: string, now: number): Claims | undefined {
    const e = this.entries.get(token);
    if (e === undefined) return undefined;
    if (now >= e.from && now <= e.until) return e.claims;
    this.entries.delete(token);
    return undefined;
  }

  remember(token: string, claims: Claims, now: number): void {
    if (this.size <= 0) return;
    const { nbf, exp } = claims;
    const from = typeof nbf === 'number' ? nbf * 1000 - this.toleranceMs : 0;
    const until = typeof exp === 'number' ? Math.min(now + REMEMBER_MS, exp * 1000 + this.toleranceMs) : now + REMEMBER_MS;
    if (this.entries.size >= this.size) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, from, until });
  }

  get count(): number {
    return this.entries.size;
  }
}

/** `verify` with its successes remembered (cacheSize 0: `verify` itself). */
export function rememberingVerify(verify: (token: string) => Claims, size: number, toleranceMs: number, clock: () => number = Date.now): (token: string) => Claims {
  if (size <= 0) return verify;
  const known = new VerifiedTokens(size, toleranceMs);
  return (token) => {
    const now = clock();
    const hit = known.get(token, now);
    if (hit !== undefined) return hit;
    const claims = verify(token);
    known.remember(token, claims, now);
    return claims;
  };
}
