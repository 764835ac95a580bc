/** Host and port of a `tcp://host:port` target URL (load.ts and discovery checked its form). */
export interface TcpAddress {
  readonly host: string;
  readonly port: number;
}

export function tcpAddress(url: string): TcpAddress {
  const u = new URL(url);
  // IPv6 literals come bracketed from URL; net.connect wants them bare.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { host, port: Number(u.port) };
}
