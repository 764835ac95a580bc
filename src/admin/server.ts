/** The admin API on its own port: probes, route and service state, config, reload. */
import { timingSafeEqual, createHash } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { GatewayError, sendProblem } from '../errors.js';
import { routeList, targetSummary } from '../cli/route-list.js';
import { configView } from './config-view.js';
import type { AdminSource } from './source.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function buildAdminApp(source: AdminSource, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger.child({ component: 'admin' }), logController: new LogController({ disableRequestLogging: true }) });
  app.addHook('onRequest', async (request, reply) => {
    const token = source.snapshot().settings.admin.token;
    if (token === '' || request.url === '/healthz' || request.url === '/readyz') return;
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(given), digest(token))) {
      return sendProblem(request, reply, 'UNAUTHENTICATED', 'the admin API needs Authorization: Bearer <admin.token>', {
        headers: { 'www-authenticate': 'Bearer realm="gatehouse-admin"' },
      });
    }
  });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof GatewayError) return sendProblem(request, reply, error.code, error.message);
    request.log.error({ err: error }, 'admin error');
    return sendProblem(request, reply, 'INTERNAL_ERROR', (error as Error).message);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, 'ROUTE_NOT_FOUND', `no admin endpoint ${request.method} ${request.url}`));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!source.ready()) return reply.code(503).send({ status: 'not ready' });
    return { status: 'ready', generation: source.generation() };
  });
  app.get('/routes', async () => {
    const s = source.snapshot();
    return {
      generation: source.generation(),
      routes: s.routes.map((r) => ({
        id: r.id,
        methods: r.methods,
        host: r.match.host ?? null,
        path: r.ingress ? null : r.match.path,
        // An ingress route's match header is the gateway's internal secret: never shown.
        headers: r.ingress ? {} : (r.match.headers ?? {}),
        target: r.ingress
          ? { kind: 'grpc-ingress', method: r.ingress.name, service: r.upstream!.service, http: `${r.ingress.httpMethod} ${r.ingress.template}` }
          : r.grpcCall
          ? { kind: 'grpc', service: r.grpcCall.service, method: r.grpcCall.name, streaming: r.grpcCall.serverStreaming }
          : r.upstream
            ? { kind: 'proxy', service: r.upstream.service }
          : r.aggregatePlan
            ? { kind: 'aggregate', services: r.aggregatePlan.services, summary: targetSummary(r) }
            : { kind: 'unknown' },
        plugins: [...s.globalPlugins, ...r.routePlugins].map((p) => p.name),
        at: `${r.where.file}:${r.where.line}:${r.where.col}`,
      })),
      table: routeList(s),
    };
  });
  app.get('/services', async () => ({ generation: source.generation(), services: await source.services() }));
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await source.metrics();
    return reply.header('content-type', contentType).send(body);
  });
  app.get('/config', async () => configView(source.snapshot(), source.generation()));
  app.post('/reload', async (_request, reply) => {
    const result = await source.reload();
    return reply.code(result.ok ? 200 : 422).send(result);
  });
  await app.ready();
  return app;
}
