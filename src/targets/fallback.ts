/**
 * A route's `fallback`: what to answer instead of a gateway error when the service is
 * unavailable (no target, connection refused after retries), its circuit open, and, when
 * listed in `on`, after a timeout or a bad gateway. `cache: stale` answers with the stale copy a
 * cache offered (stale-source.ts); otherwise, or when there is none, a static response
 * (status, headers, body) when one is configured; otherwise the gateway's own error.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FallbackConfig } from '../config/schema.js';
import type { CallFailureKind, UpstreamError } from '../upstream/call.js';
import { staleSourceOf } from './stale-source.js';

const CONDITION: Partial<Record<CallFailureKind, FallbackConfig['on'][number]>> = {
  'no-target': 'unavailable',
  'connect-error': 'unavailable',
  'circuit-open': 'circuit-open',
  timeout: 'timeout',
  reset: 'bad-gateway',
};

/** Headers of a stored response the gateway sets itself when answering with it. */
const STALE_DROP = new Set(['content-length', 'transfer-encoding', 'connection', 'x-request-id', 'age', 'x-cache']);

export interface Fallback {
  /** Whether this failure is one the fallback answers. */
  handles(failure: UpstreamError): boolean;
  /** Answers with the fallback; undefined when it has nothing to send (the caller sends the error). */
  answer(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
}

interface StaticAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function staticAnswer(config: FallbackConfig): StaticAnswer | undefined {
  if (config.status === undefined && config.body === undefined && config.headers === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.headers ?? {})) headers[k.toLowerCase()] = v;
  let body = Buffer.alloc(0);
  if (typeof config.body === 'string') {
    body = Buffer.from(config.body);
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else if (config.body !== undefined) {
    body = Buffer.from(JSON.stringify(config.body));
    headers['content-type'] ??= 'application/json';
  }
  return { status: config.status ?? 200, headers, body };
}

export function createFallback(config: FallbackConfig | undefined): Fallback | undefined {
  if (!config) return undefined;
  const on = new Set(config.on);
  const fixed = staticAnswer(config);
  const stale = config.cache === 'stale';
  return {
    handles(failure) {
      const condition = CONDITION[failure.kind];
      return condition !== undefined && on.has(condition);
    },
    async answer(request, reply) {
      if (stale) {
        const copy = await staleSourceOf(request)?.();
        if (copy) {
          const headers: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(copy.headers)) if (v !== undefined && !STALE_DROP.has(k.toLowerCase())) headers[k] = v;
          return reply
            .code(copy.status)
            .headers(headers)
            .header('age', String(Math.max(0, Math.floor((Date.now() - copy.storedAt) / 1000))))
            .header('x-cache', 'STALE')
            .header('x-gatehouse-fallback', 'stale')
            .header('x-request-id', request.id)
            .send(copy.body);
        }
      }
      if (!fixed) return undefined;
      return reply.code(fixed.status).headers(fixed.headers).header('x-gatehouse-fallback', 'static').header('x-request-id', request.id).send(fixed.body);
    },
  };
}
