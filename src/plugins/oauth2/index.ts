/**
 * `oauth2`: checks an opaque (or any) bearer token with the authorization server's RFC 7662
 * introspection endpoint, in onRequest. Failure of the endpoint never lets a request through.
 */
import { bearerResponder } from '../../auth/challenge.js';
import { acceptClaims } from '../../auth/accept.js';
import { credentialSource } from '../../auth/credential-source.js';
import { compileForward } from '../../auth/forward-claims.js';
import { missingScopes } from '../../auth/scopes.js';
import { definePlugin } from '../define.js';
import { AnswerCache } from './answer-cache.js';
import { introspector } from './introspect.js';
import { OAuth2Config } from './schema.js';

export default definePlugin({
  name: 'oauth2',
  description: 'checks bearer tokens by RFC 7662 introspection (401, 403 for scopes, 503 when the endpoint fails)',
  config: OAuth2Config,
  create(config, ctx) {
    const ask = introspector(config);
    const cache = new AnswerCache({ activeTtl: config.cacheTtl, inactiveTtl: config.inactiveCacheTtl, maxEntries: config.cacheSize });
    const forward = compileForward(config.forward);
    const source = credentialSource({ bearer: true, cookie: config.cookie, query: config.query });
    const respond = bearerResponder(config.realm);
    const { maxTokenSize, scopes, consumerClaim, hideCredentials, onError } = config;
    const accept = { consumerClaim, forward, hideCredentials, source };
    if (config.introspectionUrl.startsWith('http://') && !/^http:\/\/(127\.|localhost[:/]|\[::1\])/.test(config.introspectionUrl)) {
      ctx.logger.warn('oauth2 introspectionUrl is plain http: client credentials and tokens cross the network unencrypted');
    }

    return {
      onRequest: async (request, reply) => {
        const found = source.take(request);
        if (!found) return respond.unauthenticated(request, reply, 'a bearer token is required');
        const token = found.value;
        if (token === '') return respond.unauthenticated(request, reply, 'the Authorization header is not "Bearer <token>"', 'invalid_request');
        if (token.length > maxTokenSize) return respond.unauthenticated(request, reply, `the token is larger than ${maxTokenSize} bytes`, 'invalid_token');

        const answer = await cache.get(token, ask);
        if ('failed' in answer) {
          request.log.warn({ plugin: 'oauth2', reason: answer.failed }, 'token introspection failed');
          return onError === 'deny'
            ? respond.unauthenticated(request, reply, 'the token could not be checked', 'invalid_token')
            : respond.unavailable(request, reply, 'the token introspection endpoint is unavailable');
        }
        if (!answer.active) return respond.unauthenticated(request, reply, answer.reason, 'invalid_token');

        const claims = answer.claims;
        const missing = missingScopes(claims, scopes);
        if (missing.length > 0) return respond.forbidden(request, reply, `the token lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(' ')}`, scopes);

        acceptClaims(request, claims, found, accept);
      },
    };
  },
});
