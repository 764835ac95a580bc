/** Durations (`250ms`, `5s`, `1m`, `1h`, or milliseconds) and sizes (`512kb`, `1mb`, or bytes). */

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i;
const DURATION_FACTOR: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_FACTOR: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export const DURATION_PATTERN = DURATION.source;
export const SIZE_PATTERN = '^(\\d+(?:\\.\\d+)?)\\s*([bB]|[kK][bB]|[mM][bB]|[gG][bB])$';

/** Milliseconds for a duration value that already passed schema validation. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = DURATION.exec(value.trim());
  if (!m) throw new Error(`not a duration: ${value}`);
  return Math.round(Number(m[1]) * DURATION_FACTOR[m[2]!]!);
}

/** Bytes for a size value that already passed schema validation. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = SIZE.exec(value.trim());
  if (!m) throw new Error(`not a size: ${value}`);
  return Math.round(Number(m[1]) * SIZE_FACTOR[m[2]!.toLowerCase()]!);
}
