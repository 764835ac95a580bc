/**
 * What every provider does with a fresh answer: an empty list never replaces a good one
 * (the last good target set is kept), and an unchanged list is not announced again.
 */
import type { TargetSpec } from '../config/snapshot.js';

export type Announce = (targets: readonly TargetSpec[]) => boolean;

function keyOf(targets: readonly TargetSpec[]): string {
  return targets
    .map((t) => `${t.url} ${t.weight}`)
    .sort()
    .join('\n');
}

/** One entry per URL: the first one seen wins. */
function dedupe(targets: readonly TargetSpec[]): readonly TargetSpec[] {
  const seen = new Set<string>();
  const out: TargetSpec[] = [];
  for (const t of targets) {
    if (seen.has(t.url)) continue;
    seen.add(t.url);
    out.push(t);
  }
  return out.length === targets.length ? targets : out;
}

/** Wraps onTargets; the returned function says whether the list was passed on. */
export function announcer(onTargets: (targets: readonly TargetSpec[]) => void, onEmpty?: () => void): Announce {
  let last: string | undefined;
  return (targets) => {
    if (targets.length === 0) {
      onEmpty?.();
      return false;
    }
    const unique = dedupe(targets);
    const key = keyOf(unique);
    if (key === last) return false;
    last = key;
    onTargets(unique);
    return true;
  };
}
