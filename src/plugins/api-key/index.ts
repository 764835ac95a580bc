/** `api-key`: a key from a header or query parameter, matched against sha256 hashes in config; sets the consumer. */
import { apiKeyChallenge } from '../../auth/challenge.js';
import { credentialSource } from '../../auth/credential-source.js';
import { sendProblem } from '../../errors.js';
import { stateOf } from '../../request-state.js';
import { definePlugin } from '../define.js';
import { createKeySet } from './key-set.js';
import { ApiKeyConfig } from './schema.js';

/** Keys longer than this are refused unhashed (still 401), bounding the work an attacker can ask for. */
const MAX_KEY_LENGTH = 4096;

export default definePlugin({
  name: 'api-key',
  description: 'checks an API key against stored sha256 hashes (401 UNAUTHENTICATED) and names the consumer',
  config: ApiKeyConfig,
  create(config) {
    if (config.header === false && config.query === false) throw new Error('header and query are both false: the key could not be read from anywhere');
    const keys = createKeySet(config.keys);
    const source = credentialSource({ header: config.header || undefined, query: config.query || undefined });
    const challenge = { 'www-authenticate': apiKeyChallenge(config.realm) };
    const where = [config.header ? `the ${config.header} header` : '', config.query ? `the ${config.query} query parameter` : ''].filter(Boolean).join(' or ');
    const { hideCredentials } = config;

    return {
      onRequest: async (request, reply) => {
        const found = source.take(request);
        if (!found) return sendProblem(request, reply, 'UNAUTHENTICATED', `an API key is required in ${where}`, { headers: challenge });
        const consumer = found.value.length <= MAX_KEY_LENGTH ? keys.match(found.value) : undefined;
        if (consumer === undefined) return sendProblem(request, reply, 'UNAUTHENTICATED', 'the API key is not valid', { headers: challenge });
        stateOf(request).consumer = consumer;
        if (hideCredentials) source.hide(request, found);
      },
    };
  },
});
