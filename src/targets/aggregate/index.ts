/** The aggregate target: one request fans out to several services and their answers compose into one. */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { RouteEntry } from '../../config/snapshot.js';
import { sendProblem } from '../../errors.js';
import { Cancellation } from '../../upstream/client-gone.js';
import { requestHeadersToForward } from '../../upstream/hop-by-hop.js';
import type { UpstreamService } from '../../upstream/service.js';
import { callBackend, type BackendCall } from './call.js';
import { runPlan, type AbortReason, type PartResult } from './execute.js';
import { compose } from './merge.js';
import type { AggregatePlan } from './plan.js';

export interface AggregateOptions {
  /** server.trustProxy === false: client-sent Forwarded headers are dropped. */
  readonly untrustedClients: boolean;
  /** The upstream call; a decorated one (breaker, retry) may be passed in. */
  readonly call?: BackendCall;
}

async function readClientBody(request: FastifyRequest): Promise<{ raw: Buffer; json: unknown; contentType?: string } | undefined> {
  const b = request.body as unknown;
  let raw: Buffer;
  if (b instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const c of b) chunks.push(c as Buffer);
    raw = Buffer.concat(chunks);
  } else if (typeof b === 'string' || Buffer.isBuffer(b)) raw = Buffer.from(b);
  else if (b === undefined || b === null) return undefined;
  else raw = Buffer.from(JSON.stringify(b));
  const contentType = request.headers['content-type'];
  let json: unknown;
  if (raw.length > 0 && (contentType === undefined || /json/i.test(contentType))) {
    try {
      json = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      json = undefined;
    }
  }
  return { raw, json, contentType };
}

function timingEntry(p: PartResult): string {
  const desc = p.outcome === 'ok' || p.outcome === 'failed' ? String(p.status) : p.status === null ? p.outcome : `${p.status} ${p.outcome}`;
  return `${p.backend.timingName};dur=${p.ms.toFixed(1)};desc="${desc}"`;
}

function partReport(p: PartResult): Record<string, unknown> {
  return { as: p.backend.config.as, service: p.backend.config.service, outcome: p.outcome, status: p.status, optional: p.backend.config.optional, detail: p.detail ?? null };
}

export function createAggregateHandler(route: RouteEntry, plan: AggregatePlan, services: ReadonlyMap<string, UpstreamService>, options: AggregateOptions): RouteHandlerMethod {
  const call = options.call ?? callBackend;

  return async function aggregate(request: FastifyRequest, reply: FastifyReply) {
    const aborter = new Cancellation();
    const onClose = () => {
      if (!reply.raw.writableFinished) aborter.abort('client' satisfies AbortReason);
    };
    reply.raw.once('close', onClose);
    const deadline = setTimeout(() => aborter.abort('deadline' satisfies AbortReason), plan.timeout);
    let cause: PartResult | undefined;
    let results: PartResult[];
    let clientBody: Awaited<ReturnType<typeof readClientBody>>;
    try {
      clientBody = plan.readsBody ? await readClientBody(request) : undefined;
      const xff = request.headers['x-forwarded-for'];
      const peer = request.socket.remoteAddress ?? '';
      const baseHeaders: Record<string, string> = {
        accept: 'application/json',
        'x-request-id': request.id,
        'x-forwarded-for': xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${peer}` : peer,
        'x-forwarded-proto': request.protocol,
        'x-forwarded-host': request.host,
      };
      results = await runPlan(plan, {
        request,
        service: (name) => services.get(name),
        call,
        baseHeaders,
        forwardable: requestHeadersToForward(request.headers, options.untrustedClients),
        clientBody,
        signal: aborter,
        onRequiredFailure: (part) => {
          cause = part;
          aborter.abort('cancelled' satisfies AbortReason);
        },
      });
    } finally {
      clearTimeout(deadline);
      reply.raw.off('close', onClose);
    }
    if (aborter.reason === 'client') return reply;

    reply.header('server-timing', results.map(timingEntry).join(', '));
    const complete = results.every((r) => r.outcome === 'ok');
    reply.header('x-gatehouse-completed', String(complete && !cause));
    if (cause) {
      const code = cause.outcome === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'BAD_GATEWAY';
      const parts = results.filter((r) => r.outcome !== 'ok').map(partReport);
      return sendProblem(request, reply, code, `required part ${cause.backend.label} of route ${route.id}: ${cause.detail ?? cause.outcome}`, { fields: { parts } });
    }
    const valueOf = (r: PartResult) => (r.outcome === 'ok' ? r.value : (r.backend.config.fallback ?? null));
    let body: unknown;
    if (plan.template) {
      // The template reads the named parts (shaped, or null/fallback when an optional one failed).
      const parts = new Map(results.map((r) => [r.backend.config.as, valueOf(r)]));
      body = plan.template.render({ request, body: clientBody?.json, parts });
    } else {
      const composed = compose(
        results.map((r) => ({ as: r.backend.config.as, label: r.backend.label, value: valueOf(r) })),
        plan.conflict,
      );
      if (!composed.ok) {
        reply.header('x-gatehouse-completed', 'false');
        return sendProblem(request, reply, 'BAD_GATEWAY', `parts ${composed.between[0]} and ${composed.between[1]} both set "${composed.key}" (route ${route.id} has conflict: error)`, {
          fields: { conflict: { key: composed.key, between: composed.between } },
        });
      }
      body = composed.body;
    }
    return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
  };
}
