/** `gatehouse register` flags -> registerTarget options (or what is wrong with them). */
import { DURATION_PATTERN, parseDuration } from '../config/units.js';

export interface RegisterFlags {
  redis?: string;
  key?: string;
  url?: string;
  ttl?: string;
  weight?: string;
}

export type RegisterArgs = { ok: true; redis: string; key: string; url: string; ttl: number; weight?: number } | { ok: false; error: string };

export function registerArgs(flags: RegisterFlags): RegisterArgs {
  const { redis, key, url, ttl = '10s', weight } = flags;
  if (!redis || !key || !url) return { ok: false, error: 'register needs --redis URL, --key KEY and --url TARGET' };
  const ms = /^\d+$/.test(ttl) ? Number(ttl) : new RegExp(DURATION_PATTERN).test(ttl) ? parseDuration(ttl) : NaN;
  if (!(ms >= 1000)) return { ok: false, error: `--ttl must be a duration of at least 1s, got '${ttl}'` };
  if (weight !== undefined && !/^\d+$/.test(weight)) return { ok: false, error: `--weight must be a whole number, got '${weight}'` };
  return { ok: true, redis, key, url, ttl: ms, ...(weight !== undefined ? { weight: Number(weight) } : {}) };
}
