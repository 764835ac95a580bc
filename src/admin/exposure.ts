/** The admin API is never open to the network without a token. */
import net from 'node:net';
import type { Settings } from '../config/schema.js';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/** Refuses an admin API open to the network without a token. */
export function checkAdminExposure(admin: Settings['admin']): string | undefined {
  if (admin.enabled && !isLoopback(admin.host) && admin.token === '') {
    return `admin.host ${admin.host} is not a loopback address: set admin.token (GATEHOUSE_ADMIN_TOKEN) or bind 127.0.0.1`;
  }
  return undefined;
}

