/**
 * `jwt`: verifies a bearer JWT in onRequest, so nothing else runs for a request without a good one.
 * Claims go to the request state (`jwt:CLAIM`, `{jwt.CLAIM}`), the consumer to `{consumer}`.
 */
import { bearerResponder } from '../../auth/challenge.js';
import { acceptClaims } from '../../auth/accept.js';
import { credentialSource } from '../../auth/credential-source.js';
import { compileForward } from '../../auth/forward-claims.js';
import { missingScopes } from '../../auth/scopes.js';
import { definePlugin } from '../define.js';
import { createKeySource } from './keys.js';
import { JwtConfig } from './schema.js';
import { readHeader } from './token-header.js';
import { describeVerifyError } from './verify-errors.js';

export default definePlugin({
  name: 'jwt',
  description: 'verifies a bearer JWT (401 UNAUTHENTICATED, 403 FORBIDDEN for missing scopes/claims)',
  config: JwtConfig,
  create(config, ctx) {
    const keys = createKeySource(config, ctx.configDir, ctx.logger);
    const forward = compileForward(config.forward);
    const source = credentialSource({ bearer: true, cookie: config.cookie, query: config.query });
    const respond = bearerResponder(config.realm);
    const { maxTokenSize, requiredClaims, scopes, consumerClaim, hideCredentials } = config;
    const accept = { consumerClaim, forward, hideCredentials, source };

    return {
      onRequest: async (request, reply) => {
        const found = source.take(request);
        if (!found) return respond.unauthenticated(request, reply, 'a bearer token is required');
        const token = found.value;
        if (token === '') return respond.unauthenticated(request, reply, 'the Authorization header is not "Bearer <token>"', 'invalid_request');
        if (token.length > maxTokenSize) return respond.unauthenticated(request, reply, `the token is larger than ${maxTokenSize} bytes`, 'invalid_token');
        const header = readHeader(token);
        if ('error' in header) return respond.unauthenticated(request, reply, header.error, 'invalid_token');
        if (!keys.algorithms.has(header.alg)) return respond.unauthenticated(request, reply, `the token algorithm ${JSON.stringify(header.alg.slice(0, 16))} is not accepted`, 'invalid_token');

        const resolved = await keys.resolve(header);
        if ('unavailable' in resolved) {
          request.log.warn({ plugin: 'jwt', reason: resolved.unavailable }, 'no signing keys available');
          return respond.unavailable(request, reply, 'the signing keys of the identity provider are unavailable');
        }
        if ('invalid' in resolved) return respond.unauthenticated(request, reply, resolved.invalid, 'invalid_token');

        let claims: Record<string, unknown>;
        try {
          claims = resolved.key.verify(token);
        } catch (err) {
          return respond.unauthenticated(request, reply, describeVerifyError(err), 'invalid_token');
        }

        const absent = requiredClaims.filter((c) => !Object.prototype.hasOwnProperty.call(claims, c));
        if (absent.length > 0) return respond.forbidden(request, reply, `the token lacks the required claim${absent.length > 1 ? 's' : ''} ${absent.join(', ')}`);
        const missing = missingScopes(claims, scopes);
        if (missing.length > 0) return respond.forbidden(request, reply, `the token lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(' ')}`, scopes);

        acceptClaims(request, claims, found, accept);
      },
    };
  },
});
