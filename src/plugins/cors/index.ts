/**
 * `cors`: answers preflights (OPTIONS with Origin and Access-Control-Request-Method) at the
 * gateway with 204, never reaching the upstream, and adds the CORS response headers to actual
 * requests from allowed origins. The gateway owns these headers on its routes: whatever
 * Access-Control-* headers the upstream sends are replaced. A disallowed origin gets no
 * Access-Control-Allow-* headers (the browser then refuses). List cors before auth plugins,
 * so a preflight (which carries no credentials) is answered before they run.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../../errors.js';
import { methodsWithHead } from '../../routing/route-table.js';
import { definePlugin } from '../define.js';
import { compileOrigins } from './origin-match.js';
import { CorsConfig } from './schema.js';

const OWNED = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-max-age',
];

function addVary(reply: FastifyReply, ...names: string[]): void {
  const prior = reply.getHeader('vary');
  const list = prior === undefined ? [] : String(Array.isArray(prior) ? prior.join(',') : prior).split(',').map((s) => s.trim()).filter(Boolean);
  const lower = new Set(list.map((s) => s.toLowerCase()));
  if (lower.has('*')) return;
  for (const n of names) if (!lower.has(n.toLowerCase())) list.push(n);
  reply.header('vary', list.join(', '));
}

export default definePlugin({
  name: 'cors',
  description: 'CORS: preflights answered at the gateway, Access-Control-* on responses',
  answersMethods: ['OPTIONS'],
  config: CorsConfig,
  create(config, ctx) {
    const origins = compileOrigins(config.origins);
    const wildcard = origins.any && !config.credentials;
    const methods = config.methods.join(', ');
    const allowHeaders = config.headers?.join(', ');
    const expose = config.exposeHeaders.join(', ');
    const maxAge = config.maxAge === undefined ? undefined : String(Math.floor(config.maxAge / 1000));
    const routeTakesOptions = ctx.route.methods.includes('OPTIONS');
    const preflights = new WeakSet<FastifyRequest>();

    const allowOrigin = (reply: FastifyReply, origin: string) => {
      reply.header('access-control-allow-origin', wildcard ? '*' : origin);
      if (config.credentials) reply.header('access-control-allow-credentials', 'true');
    };

    return {
      async onRequest(request, reply) {
        if (request.method !== 'OPTIONS') return;
        const origin = request.headers.origin;
        const asked = request.headers['access-control-request-method'];
        if (typeof origin !== 'string' || typeof asked !== 'string') {
          if (routeTakesOptions) return;
          const allow = methodsWithHead(ctx.route.methods);
          return sendProblem(request, reply, 'METHOD_NOT_ALLOWED', `OPTIONS is only answered here as a CORS preflight; use ${allow.join(', ')}`, {
            headers: { allow: allow.join(', ') },
          });
        }
        preflights.add(request);
        if (!wildcard) addVary(reply, 'Origin');
        addVary(reply, 'Access-Control-Request-Method', 'Access-Control-Request-Headers');
        if (origins.matches(origin)) {
          allowOrigin(reply, origin);
          reply.header('access-control-allow-methods', methods);
          const requested = request.headers['access-control-request-headers'];
          const headers = allowHeaders ?? (typeof requested === 'string' ? requested : undefined);
          if (headers) reply.header('access-control-allow-headers', headers);
          if (maxAge !== undefined) reply.header('access-control-max-age', maxAge);
        }
        reply.code(204);
        return reply.send();
      },
      async onSend(request, reply, payload) {
        if (preflights.has(request)) return payload;
        for (const h of OWNED) reply.removeHeader(h);
        const origin = request.headers.origin;
        if (!wildcard) addVary(reply, 'Origin');
        if (typeof origin === 'string' && origins.matches(origin)) {
          allowOrigin(reply, origin);
          if (expose) reply.header('access-control-expose-headers', expose);
        }
        return payload;
      },
    };
  },
});
