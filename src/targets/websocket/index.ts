/**
 * The WebSocket target of a proxied route with `upstream.websocket: true`. An upgrade request
 * reaches this handler only after the route's plugins accepted it; the handler picks a target
 * through the service's balancer, does the handshake with it and, on its 101, answers the
 * client's 101 and pipes the two sockets. A plain request on the route is proxied as usual.
 */
import type { FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { RouteEntry } from '../../config/snapshot.js';
import { sendProblem } from '../../errors.js';
import { websocketConnections } from '../../observability/metrics.js';
import type { UpstreamObserver, UpstreamOutcome } from '../../observability/upstream-observer.js';
import { stateOf } from '../../request-state.js';
import { buildPathBuilder } from '../../routing/upstream-path.js';
import { UpstreamError } from '../../upstream/call.js';
import { requestHeadersToForward, responseHeaderFilter } from '../../upstream/hop-by-hop.js';
import { mayRetry, retryPolicy } from '../../upstream/retry.js';
import type { UpstreamService } from '../../upstream/service.js';
import type { UpstreamTarget } from '../../upstream/target.js';
import { nothingToPick } from '../../upstream/with-balancer.js';
import { UpgradeRefused, upstreamHandshake, type Handshake } from './handshake.js';
import { pendingUpgrade } from './pending-upgrade.js';
import { openTunnel } from './tunnel.js';

export interface WebSocketOptions {
  /** server.trustProxy === false: client-sent Forwarded headers are dropped. */
  readonly untrustedClients: boolean;
  /** Answers the route's plain (non-upgrade) requests: the proxy handler. */
  readonly plain: RouteHandlerMethod;
  /** Metrics and trace spans around each handshake try. */
  readonly observer: UpstreamObserver;
  /** logging.accessLog: also log a line when a WebSocket closes. */
  readonly accessLog: boolean;
}

function outcomeOf(err: UpstreamError): UpstreamOutcome {
  if (err instanceof UpgradeRefused) return 'bad_response';
  switch (err.kind) {
    case 'connect-error':
      return 'connect_error';
    case 'timeout':
      return 'timeout';
    case 'client-gone':
      return 'aborted';
    default:
      return 'reset';
  }
}

const WEBSOCKET = /^\s*websocket\s*$/i;

export function createWebSocketHandler(route: RouteEntry, service: UpstreamService, options: WebSocketOptions): RouteHandlerMethod {
  const upstream = route.upstream!;
  const buildPath = buildPathBuilder(route.match.path, upstream);
  const filterResponse = responseHeaderFilter(upstream.keepHeaders, upstream.hideHeaders);
  // The service timeout bounds the handshake only: an open WebSocket lives until one side closes it.
  const timeout = upstream.timeout ?? service.config.timeout;
  const policy = retryPolicy(service.config.retry);
  const labels = { route: route.id };

  function headersFor(request: FastifyRequest, protocol: string): Record<string, string | string[]> {
    const headers = requestHeadersToForward(request.headers, options.untrustedClients);
    const xff = request.headers['x-forwarded-for'];
    const peer = request.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${peer}` : peer;
    headers['x-forwarded-proto'] = request.protocol;
    headers['x-forwarded-host'] = request.host;
    headers['x-request-id'] = request.id;
    if (upstream.preserveHost && request.headers.host) headers.host = request.headers.host;
    headers.connection = 'Upgrade';
    headers.upgrade = protocol;
    return headers;
  }

  /** One handshake per try; a target that could not be reached is swapped for another, as for plain requests. */
  async function handshake(request: FastifyRequest, path: string, headers: Record<string, string | string[]>, signal: AbortSignal): Promise<{ shake: Handshake; target: UpstreamTarget }> {
    const tried = new Set<UpstreamTarget>();
    service.retryBudget.recordRequest();
    for (let retryNo = 1; ; retryNo++) {
      const target = service.pick(request, tried.size > 0 ? tried : undefined);
      if (!target) throw nothingToPick(service);
      tried.add(target);
      // Counted for the connection's whole life (least-connections), released when the tunnel closes.
      target.inflight++;
      const began = performance.now();
      const observed = options.observer.start(request, service.name, target.url, headers);
      try {
        const shake = await upstreamHandshake(service.config, target, { path, headers, timeout, signal });
        const ms = performance.now() - began;
        target.observe(ms, true);
        observed.end('ok', 101);
        stateOf(request).upstreamMs = ms;
        return { shake, target };
      } catch (err) {
        target.inflight--;
        if (!(err instanceof UpstreamError)) throw err;
        observed.end(outcomeOf(err), err instanceof UpgradeRefused ? err.status : undefined);
        if (err.kind !== 'client-gone') target.observe(performance.now() - began, err instanceof UpgradeRefused && err.status < 500);
        if (err.kind !== 'connect-error' || !mayRetry(policy, 'GET', err.kind, retryNo, true) || !service.retryBudget.tryWithdraw()) throw err;
        request.log.debug({ retry: retryNo, target: target.url }, 'retrying WebSocket handshake on another target');
      }
    }
  }

  return async function websocket(request, reply) {
    const pending = pendingUpgrade(request.raw);
    if (!pending) return options.plain.call(this, request, reply);
    if (request.method !== 'GET' || !WEBSOCKET.test(pending.protocol)) {
      return sendProblem(request, reply, 'BAD_REQUEST', 'only WebSocket upgrades (GET with Upgrade: websocket) are proxied');
    }
    const client = pending.socket;
    const url = request.url;
    const q = url.indexOf('?');
    const path = buildPath(q === -1 ? url : url.slice(0, q), q === -1 ? '' : url.slice(q + 1), request.params as Record<string, string>);
    const aborter = new AbortController();
    const onGone = () => aborter.abort();
    client.once('close', onGone);

    let shake: Handshake;
    let target: UpstreamTarget;
    try {
      ({ shake, target } = await handshake(request, path, headersFor(request, pending.protocol), aborter.signal));
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      if (err.kind === 'client-gone') return reply;
      if (err.target !== undefined) stateOf(request).target = err.target;
      request.log.warn({ err: { kind: err.kind, message: err.message }, target: err.target }, 'WebSocket handshake with the upstream failed');
      return sendProblem(request, reply, err.code, err.message, { headers: err.headers });
    } finally {
      client.off('close', onGone);
    }
    if (client.destroyed) {
      shake.socket.destroy();
      target.inflight--;
      return reply;
    }

    stateOf(request).target = target.url;
    reply.hijack();
    const answer = shake.response.headers;
    reply.raw.writeHead(101, {
      ...filterResponse(answer),
      connection: 'Upgrade',
      upgrade: answer.upgrade ?? pending.protocol,
      'x-request-id': request.id,
    });
    reply.raw.end();
    if (shake.head.length > 0) client.write(shake.head);
    if (pending.head.length > 0) shake.socket.write(pending.head);
    const tunnel = openTunnel(client, shake.socket);
    websocketConnections.inc(labels);
    const opened = performance.now();
    void tunnel.closed.then((end) => {
      target.inflight--;
      websocketConnections.dec(labels);
      if (options.accessLog) {
        const ms = Math.round((performance.now() - opened) * 100) / 100;
        request.log.info({ route: route.id, target: target.url, ms, closedBy: end.closedBy, bytesIn: end.bytesIn, bytesOut: end.bytesOut }, 'websocket closed');
      }
    });
    pending.opened(tunnel);
    return reply;
  };
}
