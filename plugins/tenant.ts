/**
 * A worked custom plugin: every request must name its tenant, and the upstream learns it
 * from one trusted header.
 *
 *   plugins:
 *     - tenant: { from: header, header: x-tenant, allowed: [acme, globex] }
 *     - tenant: { from: subdomain }          # acme.api.example.com -> acme
 *     - tenant: { from: jwt, claim: org }    # after a jwt plugin
 */
import { definePlugin, GatewayError, Type, stateOf, type FastifyRequest } from 'gatehouse';

export default definePlugin({
  name: 'tenant',
  description: 'requires a tenant and forwards it upstream as one trusted header',
  config: Type.Object(
    {
      from: Type.Union([Type.Literal('header'), Type.Literal('subdomain'), Type.Literal('jwt')], { default: 'header' }),
      /** Header read when from: header. */
      header: Type.String({ default: 'x-tenant' }),
      /** Claim read when from: jwt. */
      claim: Type.String({ default: 'tenant' }),
      /** Header the upstream receives (any client copy is replaced). */
      forwardAs: Type.String({ default: 'x-tenant-id' }),
      /** When not empty, only these tenants pass. */
      allowed: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    },
    { additionalProperties: false },
  ),
  create(config, ctx) {
    const header = config.header.toLowerCase();
    const forwardAs = config.forwardAs.toLowerCase();
    const allowed = config.allowed.length > 0 ? new Set(config.allowed) : undefined;
    ctx.logger.debug({ from: config.from }, 'tenant plugin ready');

    const read = (request: FastifyRequest): string | undefined => {
      if (config.from === 'subdomain') return request.hostname.split('.')[0];
      if (config.from === 'jwt') {
        const v = stateOf(request).jwt?.[config.claim];
        return typeof v === 'string' ? v : undefined;
      }
      const v = request.headers[header];
      return typeof v === 'string' ? v : undefined;
    };

    return {
      // preHandler runs after every onRequest hook, so claims from an auth plugin are known.
      async preHandler(request) {
        const tenant = read(request)?.trim();
        if (!tenant || !/^[A-Za-z0-9_-]{1,64}$/.test(tenant)) throw new GatewayError('BAD_REQUEST', 'this route needs a tenant');
        if (allowed && !allowed.has(tenant)) throw new GatewayError('FORBIDDEN', `tenant ${tenant} may not use this route`);
        request.headers[forwardAs] = tenant;
      },
    };
  },
});
