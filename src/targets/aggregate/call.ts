/**
 * One backend call of an aggregate: the service's balancer picks a target, undici sends the
 * request, the whole (bounded) body comes back. Like the proxy, it tries once more (on another
 * target when there is one) when nothing was sent or a pooled connection had gone stale.
 * Kept to this one function so breakers and retries can wrap it as they wrap the proxy's call.
 */
import type { FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../../errors.js';
import type { CallSignal } from '../../upstream/client-gone.js';
import type { UpstreamService } from '../../upstream/service.js';
import type { UpstreamTarget } from '../../upstream/target.js';
import { classifyUpstreamError } from '../../upstream/upstream-errors.js';

/** The largest backend body an aggregate reads; a larger one fails that part. */
export const MAX_PART_BYTES = 16 * 1024 * 1024;

export interface BackendRequest {
  readonly method: string;
  /** Path and query, already encoded. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
  readonly signal: CallSignal;
  /** Limit for the response headers and for each pause of the body (the signal carries the overall limit). */
  readonly timeout: number;
}

export interface BackendResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The target that answered. */
  readonly target: string;
}

export type BackendCall = (service: UpstreamService, request: FastifyRequest, req: BackendRequest) => Promise<BackendResponse>;

/** Reads a backend's whole body, up to MAX_PART_BYTES (a larger one fails the part with 502). */
export async function readPart(body: Dispatcher.ResponseData['body'], service: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_PART_BYTES) {
      body.destroy();
      throw new GatewayError('BAD_GATEWAY', `service ${service} answered more than ${MAX_PART_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** A failure worth one more try, as the proxy does: nothing was sent, or a pooled connection had gone stale. */
function replayable(err: unknown, method: string): boolean {
  if (classifyUpstreamError(err, '').beforeSend) return true;
  const code = (err as { code?: string }).code;
  return (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') && IDEMPOTENT.has(method);
}

async function once(service: UpstreamService, target: UpstreamTarget, req: BackendRequest): Promise<BackendResponse> {
  target.inflight++;
  try {
    const res = await target.pool.request({
      method: req.method as Dispatcher.HttpMethod,
      path: req.path,
      headers: req.headers,
      body: req.body,
      signal: req.signal as Dispatcher.RequestOptions['signal'],
      headersTimeout: req.timeout,
      bodyTimeout: req.timeout,
    });
    return { status: res.statusCode, headers: res.headers, body: await readPart(res.body, service.name), target: target.url };
  } finally {
    target.inflight--;
  }
}

export const callBackend: BackendCall = async (service, request, req) => {
  let tried: Set<UpstreamTarget> | undefined;
  for (let attempt = 0; ; attempt++) {
    const target = service.pick(request, tried);
    if (!target) throw new GatewayError('UPSTREAM_UNAVAILABLE', `service ${service.name} has no available target`);
    try {
      return await once(service, target, req);
    } catch (err) {
      if (attempt > 0 || req.signal.aborted || !replayable(err, req.method)) throw err;
      (tried ??= new Set()).add(target);
    }
  }
};
