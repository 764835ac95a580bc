/** The proxy target: forwards the request to a target the service's balancer picks, streaming both ways. */
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Dispatcher } from 'undici';
import type { RouteEntry } from '../config/snapshot.js';
import { GatewayError, sendProblem } from '../errors.js';
import { buildPathBuilder } from '../routing/upstream-path.js';
import { requestHeadersToForward, responseHeaderFilter } from '../upstream/hop-by-hop.js';
import type { UpstreamService } from '../upstream/service.js';
import type { UpstreamTarget } from '../upstream/target.js';
import { classifyUpstreamError } from '../upstream/upstream-errors.js';
import { outcomeOfCode, outcomeOfStatus, type UpstreamObserver } from '../observability/upstream-observer.js';
import { stateOf } from '../request-state.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export interface ProxyOptions {
  /** server.trustProxy === false: client-sent Forwarded headers are dropped. */
  readonly untrustedClients: boolean;
  /** Metrics and trace spans around each upstream call. */
  readonly observer: UpstreamObserver;
}

function hasBody(request: FastifyRequest): boolean {
  const h = request.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

/** The request body as undici takes it: a stream, bytes, or nothing. */
function bodyOf(request: FastifyRequest): { body: Dispatcher.RequestOptions['body']; length?: number } {
  const b = request.body as unknown;
  if (b === undefined || b === null) return { body: hasBody(request) ? request.raw : undefined };
  if (b instanceof Readable) return { body: b };
  if (typeof b === 'string' || Buffer.isBuffer(b)) return { body: b, length: Buffer.byteLength(b) };
  const json = JSON.stringify(b);
  return { body: json, length: Buffer.byteLength(json) };
}

function validStatus(code: number): boolean {
  return code >= 200 && code <= 599;
}

export function createProxyHandler(route: RouteEntry, service: UpstreamService, options: ProxyOptions): RouteHandlerMethod {
  const upstream = route.upstream!;
  const buildPath = buildPathBuilder(route.match.path, upstream);
  const filterResponse = responseHeaderFilter(upstream.keepHeaders);
  const timeout = upstream.timeout ?? service.config.timeout;
  const preserveHost = upstream.preserveHost;

  async function send(request: FastifyRequest, reply: FastifyReply, target: UpstreamTarget, path: string, signal: AbortSignal) {
    const headers = requestHeadersToForward(request.headers, options.untrustedClients);
    const xff = request.headers['x-forwarded-for'];
    const peer = request.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${peer}` : peer;
    headers['x-forwarded-proto'] = request.protocol;
    headers['x-forwarded-host'] = request.host;
    headers['x-request-id'] = request.id;
    if (preserveHost && request.headers.host) headers.host = request.headers.host;
    const call = options.observer.start(request, service.name, target.url, headers);
    const { body, length } = bodyOf(request);
    const cl = request.headers['content-length'];
    if (length !== undefined) headers['content-length'] = String(length);
    else if (cl !== undefined && body !== undefined) headers['content-length'] = cl;
    const began = performance.now();
    try {
      const res = await target.pool.request({
        method: request.method as Dispatcher.HttpMethod,
        path,
        headers,
        body,
        signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      stateOf(request).upstreamMs = performance.now() - began;
      call.end(validStatus(res.statusCode) ? outcomeOfStatus(res.statusCode) : 'bad_response', res.statusCode);
      return res;
    } catch (err) {
      const failure = classifyUpstreamError(err, service.name);
      call.end(failure.clientGone ? 'aborted' : outcomeOfCode(failure.code));
      throw err;
    }
  }

  return async function proxy(request, reply) {
    const url = request.url;
    const q = url.indexOf('?');
    const path = buildPath(q === -1 ? url : url.slice(0, q), q === -1 ? '' : url.slice(q + 1), request.params as Record<string, string>);
    const aborter = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) aborter.abort();
    };
    reply.raw.once('close', onClose);

    let tried: Set<UpstreamTarget> | undefined;
    for (let attempt = 0; ; attempt++) {
      const target = service.pick(request, tried);
      if (!target) return sendProblem(request, reply, 'UPSTREAM_UNAVAILABLE', `service ${service.name} has no available target`);
      target.inflight++;
      const started = performance.now();
      let res: Dispatcher.ResponseData;
      try {
        res = await send(request, reply, target, path, aborter.signal);
      } catch (err) {
        target.inflight--;
        const failure = classifyUpstreamError(err, service.name);
        if (failure.clientGone) return reply;
        // A pooled connection that the upstream had already closed: try once more, elsewhere if possible.
        const stale = (err as { code?: string }).code === 'UND_ERR_SOCKET' || (err as { code?: string }).code === 'ECONNRESET';
        const replayable = request.body === undefined && !hasBody(request);
        const retry = attempt === 0 && (failure.beforeSend || (stale && IDEMPOTENT.has(request.method))) && replayable;
        // Health and latency: a stale pooled socket that is retried is not the target's fault, nor is a bad request body.
        if (failure.code !== 'BAD_REQUEST' && !(retry && stale && !failure.beforeSend)) target.observe(performance.now() - started, false);
        if (retry) {
          (tried ??= new Set()).add(target);
          continue;
        }
        if (err instanceof GatewayError) return sendProblem(request, reply, err.code, err.message, { headers: err.headers });
        request.log.warn({ err: { code: (err as { code?: string }).code, message: (err as Error).message }, target: target.url }, 'upstream request failed');
        return sendProblem(request, reply, failure.code, failure.detail);
      }
      const done = () => {
        target.inflight--;
      };
      target.observe(performance.now() - started, validStatus(res.statusCode) && res.statusCode < 500);
      if (!validStatus(res.statusCode)) {
        // Destroying the body mid-response also discards the pooled connection.
        res.body.on('error', () => undefined).destroy();
        done();
        return sendProblem(request, reply, 'BAD_GATEWAY', `service ${service.name} answered with status ${res.statusCode}`);
      }
      res.body.once('close', done);
      stateOf(request).target = target.url;
      reply.code(res.statusCode);
      reply.headers(filterResponse(res.headers));
      reply.header('x-request-id', request.id);
      return reply.send(res.body);
    }
  };
}
