/** `request-size`: this route's body limit (replaces server.bodyLimit for it); 413 before anything goes upstream. */
import { asyncBodyLimitHooks } from '../../body-limit.js';
import { definePlugin } from '../define.js';
import { RequestSizeConfig } from './schema.js';

export default definePlugin({
  name: 'request-size',
  description: 'limits the request body size (413 PAYLOAD_TOO_LARGE)',
  config: RequestSizeConfig,
  create(config) {
    const hooks = asyncBodyLimitHooks(config.limit);
    return { onRequest: hooks.onRequest, preParsing: hooks.preParsing };
  },
});
