/**
 * The fast lane: requests that need nothing of Fastify are proxied straight from Node's request
 * to the route's upstream call, with no Fastify request, reply, hooks or child logger made.
 *
 * A route is on the lane when it is a plain proxy route: no plugin (route or global), no
 * fallback, no upstream error pages, no WebSocket, and the gateway has tracing, Server-Timing
 * and trustProxy off. A request takes it when it is HTTP/1.x without a body (no Content-Length,
 * no Transfer-Encoding, no Expect), its head passes the same checks as every request
 * (request-head.ts), its path holds no percent-escape, and the route table matches it to such
 * a route. Everything else goes to Fastify, which answers it exactly as before. On the lane the
 * request is answered the same way: the same upstream call (balancer, breaker, retries,
 * observation), the same headers both ways, problem+json errors, x-request-id, request
 * metrics and the access log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Dispatcher } from 'undici';
import type { RouteEntry } from '../config/snapshot.js';
import { writeProblem } from '../errors.js';
import { accessLogWriter, type AccessLogWrite } from '../observability/access-log.js';
import { routeRequestCounter } from '../observability/request-hooks.js';
import { checkRequestHead, requestIdOf, type AcceptedHead } from '../request-head.js';
import { stateOf } from '../request-state.js';
import type { RouteTable } from '../routing/route-table.js';
import { directHead, type ProxyPlan } from '../targets/proxy-plan.js';
import { UpstreamError, type CallResult, type UpstreamAnswer } from '../upstream/call.js';
import { ClientGone } from '../upstream/client-gone.js';
import { upstreamRequestHeaders } from '../upstream/forward-headers.js';
import { dropConnectionNamed } from '../upstream/hop-by-hop.js';
import { StreamedAnswer } from '../upstream/streamed-answer.js';
import { FastRequest, type FastRouteOptions } from './fast-request.js';

export interface FastLaneSettings {
  readonly logger: FastifyBaseLogger;
  readonly accessLog: boolean;
  /** Query parameter names the access log redacts. */
  readonly redact: ReadonlySet<string>;
}

/** The gateway-wide settings under which no route can be on the lane. */
export function laneClosedBy(settings: { server: { trustProxy: unknown; timing: boolean } }, tracing: boolean): string | undefined {
  if (tracing) return 'tracing';
  if (settings.server.timing) return 'server.timing';
  if (settings.server.trustProxy !== false) return 'server.trustProxy';
  return undefined;
}

/** Whether a route, with the plugins its chain runs, can be on the lane. */
export function laneTakes(route: RouteEntry, activePlugins: number, plan: ProxyPlan): boolean {
  const up = route.upstream;
  return up !== undefined && !up.websocket && !route.ingress && route.fallback === undefined && plan.replaceError === undefined && activePlugins === 0;
}

class FastRoute {
  private readonly routeOptions: FastRouteOptions;
  private readonly count: ReturnType<typeof routeRequestCounter>;

  constructor(
    private readonly routeId: string,
    private readonly plan: ProxyPlan,
    private readonly settings: FastLaneSettings,
    private readonly writeAccessLog: AccessLogWrite | undefined,
  ) {
    this.routeOptions = { config: { routeId } };
    this.count = routeRequestCounter(routeId);
  }

  serve(req: IncomingMessage, res: ServerResponse, head: AcceptedHead, params: Record<string, string | undefined>, closed: () => void): void {
    const began = performance.now();
    if (req.headers.connection !== undefined) dropConnectionNamed(req.headers);
    const request = new FastRequest(requestIdOf(req), req, head.url, this.routeOptions, this.settings.logger);
    const gone = new ClientGone();
    // 'close' comes once: `on`, with no once-wrapper to make and remove.
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
      this.served(request, res, began);
      closed();
    });
    this.plan
      .call({
        request,
        method: req.method as Dispatcher.HttpMethod,
        path: this.plan.buildPath(head.path, head.query, params),
        headers: upstreamRequestHeaders(request, this.plan.forwarding),
        body: undefined,
        replayable: true,
        signal: gone,
        tried: new Set(),
      })
      .then(
        (result) => this.answer(request, res, result),
        (err: unknown) => this.fail(request, res, err),
      );
  }

  private answer(request: FastRequest, res: ServerResponse, result: CallResult<UpstreamAnswer>): void {
    const answer = result.response as StreamedAnswer;
    const state = this.settings.accessLog ? stateOf(request) : undefined;
    if (state) state.target = result.target.url;
    try {
      res.writeHead(answer.statusCode, directHead(this.plan.filterRawResponse(answer.rawHeaders), undefined, request.id));
    } catch (err) {
      // A header Node will not write: the answer cannot be passed on.
      answer.discard();
      request.log.warn({ err, target: result.target.url }, 'upstream answer has a header that cannot be forwarded');
      this.problem(request, res, 'BAD_GATEWAY', 'the upstream answer has a header that cannot be forwarded');
      return;
    }
    answer.writeTo(res, state);
  }

  private fail(request: FastRequest, res: ServerResponse, err: unknown): void {
    if (!(err instanceof UpstreamError)) {
      request.log.error({ err }, 'unhandled error');
      this.problem(request, res, 'INTERNAL_ERROR', 'the gateway failed to handle this request');
      return;
    }
    if (err.kind === 'client-gone') return;
    if (err.target !== undefined && this.settings.accessLog) stateOf(request).target = err.target;
    request.log.warn({ err: { kind: err.kind, code: (err.cause as { code?: string } | undefined)?.code, message: err.message }, target: err.target }, 'upstream request failed');
    this.problem(request, res, err.code, err.message, err.headers);
  }

  private problem(request: FastRequest, res: ServerResponse, code: UpstreamError['code'], detail: string, headers?: Record<string, string>): void {
    const bytes = writeProblem(res, code, request.id, detail, headers);
    if (bytes !== undefined && this.settings.accessLog) stateOf(request).bytes = bytes;
  }

  /** On close: the request metrics and the access-log line, as Fastify's onResponse hook writes them. */
  private served(request: FastRequest, res: ServerResponse, began: number): void {
    const ms = performance.now() - began;
    this.count(request.method, res.statusCode, ms / 1000);
    this.writeAccessLog?.(
      { routeId: this.routeId, method: request.method, url: request.url, status: res.statusCode, ms, contentLength: undefined, ip: request.ip, state: request.gatehouse },
      request.id,
      () => request.log,
    );
  }
}

export class FastLane {
  private readonly routes = new Map<string, FastRoute>();
  private readonly writeAccessLog: AccessLogWrite | undefined;

  constructor(
    private readonly table: RouteTable<RouteEntry>,
    private readonly settings: FastLaneSettings,
  ) {
    this.writeAccessLog = settings.accessLog ? accessLogWriter(settings.logger, settings.redact) : undefined;
  }

  /** Puts a route on the lane, proxied through `plan` (a direct one). */
  add(routeId: string, plan: ProxyPlan): void {
    this.routes.set(routeId, new FastRoute(routeId, plan, this.settings, this.writeAccessLog));
  }

  /** How many routes are on the lane. */
  get size(): number {
    return this.routes.size;
  }

  /** Serves the request if it takes the lane (calling `closed` once its response has closed); false when Fastify is to serve it. */
  serve(req: IncomingMessage, res: ServerResponse, closed: () => void): boolean {
    if (req.httpVersionMajor !== 1) return false;
    const h = req.headers;
    if (h['content-length'] !== undefined || h['transfer-encoding'] !== undefined || h.expect !== undefined) return false;
    const head = checkRequestHead(req);
    if (!('url' in head) || head.path.includes('%')) return false;
    const found = this.table.findPath(req.method!, head.path, h);
    if (!found) return false;
    const route = this.routes.get(found.route.id);
    if (!route) return false;
    route.serve(req, res, head, found.params, closed);
    return true;
  }
}
