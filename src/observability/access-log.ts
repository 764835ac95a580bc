/** One structured line per request, with secrets left out: headers are never logged, named query values are redacted. */
import type { FastifyReply, FastifyRequest } from 'fastify';

export function redactQuery(url: string, names: ReadonlySet<string>): string {
  const q = url.indexOf('?');
  if (q === -1 || names.size === 0) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((p) => {
      const eq = p.indexOf('=');
      const key = eq === -1 ? p : p.slice(0, eq);
      let name = key;
      try {
        name = decodeURIComponent(key);
      } catch {
        /* keep as is */
      }
      return eq !== -1 && names.has(name.toLowerCase()) ? `${key}=[redacted]` : p;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

export function accessLogLine(request: FastifyRequest, reply: FastifyReply, redact: ReadonlySet<string>): Record<string, unknown> {
  const state = request.gatehouse;
  const length = reply.getHeader('content-length');
  return {
    route: request.routeOptions.config.routeId ?? null,
    method: request.method,
    path: redactQuery(request.url, redact),
    status: reply.statusCode,
    ms: Math.round(reply.elapsedTime * 100) / 100,
    target: state?.target ?? null,
    bytes: length !== undefined ? Number(length) : (state?.bytes ?? null),
    client: request.ip,
    consumer: state?.consumer ?? null,
  };
}
