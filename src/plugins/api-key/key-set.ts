/**
 * The stored key hashes of one route. A presented key is hashed once and compared with every
 * stored hash by crypto.timingSafeEqual, without stopping at a match, so neither the time taken
 * nor its length says which key (if any) matched or how close a guess came.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface StoredKey {
  readonly consumer: string;
  readonly sha256: string;
}

export interface KeySet {
  /** The consumer of the matching key, or undefined. */
  match(presented: string): string | undefined;
}

export function createKeySet(keys: readonly StoredKey[]): KeySet {
  const seen = new Map<string, string>();
  for (const k of keys) {
    const hex = k.sha256.toLowerCase();
    const prior = seen.get(hex);
    if (prior !== undefined) throw new Error(`keys: the consumers ${prior} and ${k.consumer} share one key hash`);
    seen.set(hex, k.consumer);
  }
  const hashes = keys.map((k) => Buffer.from(k.sha256, 'hex'));
  const consumers = keys.map((k) => k.consumer);
  return {
    match(presented) {
      const digest = createHash('sha256').update(presented, 'utf8').digest();
      let found = -1;
      for (let i = 0; i < hashes.length; i++) {
        // Every hash is compared; a match only records its index.
        if (timingSafeEqual(digest, hashes[i]!) && found === -1) found = i;
      }
      return found === -1 ? undefined : consumers[found];
    },
  };
}
