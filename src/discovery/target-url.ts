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
  const grpc = protocol === 'grpc';
  const schemes = grpc ? ['http:', 'https:', 'grpc:', 'grpcs:'] : [`${protocol}:`];
  if (!schemes.includes(url.protocol)) {
    const hint = grpc
      ? ' (grpc targets are http:// or grpc:// for plaintext, https:// or grpcs:// for TLS)'
      : protocol === 'tcp'
        ? ' (tcp targets are tcp://host:port)'
        : '';
    return { ok: false, reason: `target "${raw}" does not match the service protocol ${protocol}${hint}` };
  }
  if (protocol === 'tcp') {
    if (url.port === '' || (url.pathname !== '' && url.pathname !== '/') || url.search || url.hash || url.username) {
      return { ok: false, reason: `target "${raw}" must be tcp://host:port` };
    }
  } else if ((url.pathname !== '/' && url.pathname !== '') || url.search) return { ok: false, reason: `target "${raw}" must not have a path or query (use upstream.rewrite)` };
  // grpc: and grpcs: are not special schemes, so URL has no origin for them.
  return { ok: true, url: url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin };
}

/** `http://host:port` for a host name, IPv4 or IPv6 address (bracketed), trailing dot of a DNS name dropped. */
export function targetUrlOf(protocol: string, host: string, port: number): string {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return `${protocol}://${name.includes(':') ? `[${name}]` : name}:${port}`;
}
