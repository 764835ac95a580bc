/**
 * Consistent hashing on a ring of virtual nodes, with bounded load (Mirrokni et al., as
 * HAProxy's `hash-balance-factor` and Envoy's ring hash do it):
 * - each target owns `replicas x weight` points on a 32-bit ring; a key goes to the first
 *   point clockwise from its hash, so a target joining or leaving moves only ~1/N of keys;
 * - an unavailable target is skipped (its keys go to the next point's owner and come back);
 * - a target already holding more than `loadFactor` x its weighted share of the in-flight
 *   requests is skipped too, so one hot key cannot pile everything on one target.
 */
import { candidates, type Balancer, type BalancerTarget } from './balancer.js';
import { hash32 } from './hash.js';
import type { HashKeyOf } from './hash-key.js';

export interface ConsistentHashOptions {
  /** Reads the key of a request; a request without one is placed at random. */
  keyOf?: HashKeyOf;
  /** Virtual nodes per unit of weight (default 160, as ketama). */
  replicas?: number;
  /** Bounded-load factor c > 1: no target takes over c x its share of in-flight requests (default 1.25). */
  loadFactor?: number;
  rand?: () => number;
}

/** The ring never holds more points than this; above it, points per unit of weight shrink. */
const MAX_POINTS = 200_000;

interface Ring<T> {
  targets: T[];
  index: Map<T, number>;
  /** Point hashes, ascending. */
  points: Uint32Array;
  /** Owner (index into targets) of each point. */
  owners: Uint16Array;
}

function buildRing<T extends BalancerTarget>(targets: readonly T[], replicas: number): Ring<T> {
  const list = [...new Set(targets)].slice(0, 65_535);
  const totalWeight = list.reduce((s, t) => s + t.weight, 0);
  const unit = Math.max(1, Math.min(replicas, Math.floor(MAX_POINTS / Math.max(1, totalWeight))));
  let size = 0;
  for (const t of list) size += unit * t.weight;
  // hash * 2^16 + owner fits a double exactly, and a Float64Array sorts numerically.
  const packed = new Float64Array(size);
  let k = 0;
  list.forEach((t, owner) => {
    const n = unit * t.weight;
    for (let i = 0; i < n; i++) packed[k++] = hash32(`${t.url}#${i}`) * 65_536 + owner;
  });
  packed.sort();
  const points = new Uint32Array(size);
  const owners = new Uint16Array(size);
  for (let i = 0; i < size; i++) {
    const v = packed[i]!;
    owners[i] = v % 65_536;
    points[i] = (v - owners[i]!) / 65_536;
  }
  return { targets: list, index: new Map(list.map((t, i) => [t, i])), points, owners };
}

/** Index of the first point >= h (wrapping to 0). */
function firstAtOrAfter(points: Uint32Array, h: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]! < h) lo = mid + 1;
    else hi = mid;
  }
  return lo === points.length ? 0 : lo;
}

export function consistentHash<T extends BalancerTarget>(options: ConsistentHashOptions = {}): Balancer<T> {
  const replicas = options.replicas ?? 160;
  const loadFactor = options.loadFactor ?? 1.25;
  const rand = options.rand ?? Math.random;
  let ring: Ring<T> = buildRing<T>([], replicas);
  // Per pick, stamp[i] === stampNo marks ring target i as a candidate (no allocation per pick).
  let stamp = new Uint32Array(0);
  let stampNo = 0;
  // Per walk, seen[i] === walkNo marks ring target i as already refused.
  let seen = new Uint32Array(0);
  let walkNo = 0;
  // Ring index of each target of the list picked from last (the service hands the same array while nothing changes).
  let lastList: readonly T[] | undefined;
  let lastIndex = new Int32Array(0);

  function rebuild(targets: readonly T[]): void {
    ring = buildRing(targets, replicas);
    stamp = new Uint32Array(ring.targets.length);
    seen = new Uint32Array(ring.targets.length);
    stampNo = 0;
    walkNo = 0;
    lastList = undefined;
  }

  /**
   * The first owner clockwise from `start` that is a candidate of this pick and, when
   * `scale` is finite, holds fewer than ceil(scale x weight) requests.
   */
  function walk(start: number, scale: number): T | undefined {
    const { points, owners, targets } = ring;
    const n = points.length;
    if (++walkNo === 0xffff_ffff) {
      seen.fill(0);
      walkNo = 1;
    }
    let refused = 0;
    for (let step = 0; step < n && refused < targets.length; step++) {
      const owner = owners[(start + step) % n]!;
      if (seen[owner] === walkNo) continue;
      const t = targets[owner]!;
      if (stamp[owner] === stampNo && (scale === Infinity || t.inflight < Math.ceil(scale * t.weight))) return t;
      seen[owner] = walkNo;
      refused++;
    }
    return undefined;
  }

  return {
    update(targets) {
      rebuild(targets);
    },
    pick(available, ctx) {
      const list = candidates(available, ctx.exclude);
      if (list.length === 0) return undefined;
      if (list.length === 1) return list[0];
      if (list !== lastList) {
        for (const t of list) {
          if (!ring.index.has(t)) {
            rebuild([...ring.targets, ...list]);
            break;
          }
        }
        lastIndex = Int32Array.from(list, (t) => ring.index.get(t)!);
        lastList = list;
      }
      if (++stampNo === 0xffff_ffff) {
        stamp.fill(0);
        stampNo = 1;
      }
      let inflight = 0;
      let weight = 0;
      for (let i = 0; i < list.length; i++) {
        const t = list[i]!;
        stamp[lastIndex[i]!] = stampNo;
        inflight += t.inflight;
        weight += t.weight;
      }
      const key = ctx.key ?? (ctx.request && options.keyOf ? options.keyOf(ctx.request) : undefined);
      const h = key === undefined ? Math.floor(rand() * 0x1_0000_0000) : hash32(key);
      const start = firstAtOrAfter(ring.points, h);
      return walk(start, (loadFactor * (inflight + 1)) / weight) ?? walk(start, Infinity);
    },
  };
}
