/** Reads one registry entry (an etcd value or a Redis member): a URL or `{"url": ..., "weight": N}` JSON. */
import type { TargetSpec } from '../config/snapshot.js';
import { checkTargetUrl } from './target-url.js';

export const MAX_WEIGHT = 1000;

export type TargetValueResult = { ok: true; target: TargetSpec } | { ok: false; reason: string };

export function parseTargetValue(text: string, protocol: string): TargetValueResult {
  const trimmed = text.trim();
  let url: unknown = trimmed;
  let weight: unknown = 1;
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return { ok: false, reason: 'is not valid JSON' };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'must be a URL or {"url": ..., "weight": N}' };
    ({ url, weight = 1 } = parsed as { url?: unknown; weight?: unknown });
  }
  if (typeof url !== 'string') return { ok: false, reason: '"url" must be a string' };
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    return { ok: false, reason: `"weight" must be a whole number from 1 to ${MAX_WEIGHT}` };
  }
  const checked = checkTargetUrl(url, protocol);
  if (!checked.ok) return checked;
  return { ok: true, target: { url: checked.url, weight } };
}
