/** The proxy target: forwards the request to a target the service's balancer picks, streaming both ways. */
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Dispatcher } from 'undici';
import type { RouteEntry } from '../config/snapshot.js';
import { sendProblem } from '../errors.js';
import { stateOf } from '../request-state.js';
import { UpstreamError, type CallResult, type ReadableAnswer } from '../upstream/call.js';
import { upstreamRequestHeaders } from '../upstream/forward-headers.js';
import { StreamedAnswer } from '../upstream/streamed-answer.js';
import { ClientGone } from '../upstream/client-gone.js';
import { createFallback } from './fallback.js';
import { directHead, type ProxyPlan } from './proxy-plan.js';
import { sendUpstreamErrorProblem } from './upstream-error-page.js';
import { bodiless, NO_BODY, outgoingBody, type OutgoingBody } from './outgoing-body.js';

export type { ProxyOptions } from './proxy-plan.js';

/** An onSend hook marked headersOnly (plugins/define.ts): run on a direct answer's head. */
export type HeaderHook = (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;

/**
 * The Fastify handler of a proxy route, proxying through its plan (proxy-plan.ts). On a direct
 * plan, `headerHooks` are the route's onSend hooks (all headers-only), run on each answer's head.
 */
export function createProxyHandler(route: RouteEntry, plan: ProxyPlan, headerHooks: readonly HeaderHook[] = []): RouteHandlerMethod {
  const { buildPath, filterResponse, filterRawResponse, replaceError, policy, forwarding, call } = plan;
  const fallback = createFallback(route.fallback);

  function headersFor(request: FastifyRequest, out: OutgoingBody): Record<string, string | string[]> {
    const headers = upstreamRequestHeaders(request, forwarding);
    const cl = request.headers['content-length'];
    if (out.length !== undefined) headers['content-length'] = String(out.length);
    else if (cl !== undefined && out.body !== undefined) headers['content-length'] = cl;
    return headers;
  }

  async function fail(request: FastifyRequest, reply: FastifyReply, failure: UpstreamError): Promise<FastifyReply> {
    if (failure.target !== undefined) stateOf(request).target = failure.target;
    if (fallback?.handles(failure)) {
      const answered = await fallback.answer(request, reply);
      if (answered) return answered;
    }
    request.log.warn({ err: { kind: failure.kind, code: (failure.cause as { code?: string } | undefined)?.code, message: failure.message }, target: failure.target }, 'upstream request failed');
    return sendProblem(request, reply, failure.code, failure.message, { headers: failure.headers });
  }

  return async function proxy(request, reply) {
    const url = request.url;
    const q = url.indexOf('?');
    const path = buildPath(q === -1 ? url : url.slice(0, q), q === -1 ? '' : url.slice(q + 1), request.params as Record<string, string>);
    const gone = new ClientGone();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });

    let out: OutgoingBody = NO_BODY;
    // Most requests have no body: no promise to wait for then.
    if (!bodiless(request)) {
      try {
        out = await outgoingBody(request, policy.maxBodySize);
      } catch (err) {
        if (gone.aborted || request.raw.destroyed) return reply;
        throw err;
      }
    }
    let result: CallResult<StreamedAnswer | ReadableAnswer>;
    try {
      result = await call({
        request,
        method: request.method as Dispatcher.HttpMethod,
        path,
        headers: headersFor(request, out),
        body: out.body,
        replayable: out.replayable,
        signal: gone,
        tried: new Set(),
      });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      if (err.kind === 'client-gone') return reply;
      return fail(request, reply, err);
    }
    const res = result.response;
    stateOf(request).target = result.target.url;
    if (replaceError?.(res.statusCode)) {
      res.discard(); // up to 64 KiB read and dropped so the pooled connection stays usable
      return sendUpstreamErrorProblem(request, reply, res.statusCode, filterResponse(res.headers));
    }
    if (res instanceof StreamedAnswer) {
      let head;
      if (headerHooks.length === 0) head = directHead(filterRawResponse(res.rawHeaders), reply.getHeaders(), request.id);
      else {
        // As Fastify would: the upstream's headers on the reply, then the hooks, then the head as they left it.
        reply.headers(filterRawResponse(res.rawHeaders));
        reply.header('x-request-id', request.id);
        try {
          for (const hook of headerHooks) await hook(request, reply, undefined);
        } catch (err) {
          res.discard();
          throw err;
        }
        head = reply.getHeaders() as OutgoingHttpHeaders;
      }
      reply.hijack(); // onResponse hooks still run when the response finishes
      reply.raw.writeHead(res.statusCode, head);
      res.writeTo(reply.raw, stateOf(request));
      return reply;
    }
    reply.code(res.statusCode);
    reply.headers(filterResponse(res.headers));
    reply.header('x-request-id', request.id);
    return reply.send(res.body);
  };
}
