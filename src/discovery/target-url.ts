/** Checks one target URL against its service's protocol; shared by config loading and the discovery providers. */
export type TargetUrlResult = { ok: true; url: string } | { ok: false; reason: string };

/** `raw` must be `protocol://host[:port]` with nothing after the authority; gives back its normalised origin. */
export function checkTargetUrl(raw: string, protocol: string): TargetUrlResult {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    /* reported below */
  }
  if (!url || !url.hostname) return { ok: false, reason: `"${raw}" is not a URL (write ${protocol}://host:port)` };
  if (url.protocol !== `${protocol}:`) return { ok: false, reason: `target "${raw}" does not match the service protocol ${protocol}` };
  if (url.pathname !== '/' || url.search) return { ok: false, reason: `target "${raw}" must not have a path or query (use upstream.rewrite)` };
  return { ok: true, url: url.origin };
}

/** `http://host:port` for a host name, IPv4 or IPv6 address (bracketed), trailing dot of a DNS name dropped. */
export function targetUrlOf(protocol: string, host: string, port: number): string {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return `${protocol}://${name.includes(':') ? `[${name}]` : name}:${port}`;
}
