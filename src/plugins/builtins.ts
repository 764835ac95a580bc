/** The plugins that ship with the gateway. */
import type { PluginDefinition } from './define.js';
import apiKey from './api-key/index.js';
import body from './body/index.js';
import cache from './cache/index.js';
import compress from './compress/index.js';
import cors from './cors/index.js';
import headers from './headers/index.js';
import ipFilter from './ip-filter/index.js';
import jwt from './jwt/index.js';
import oauth2 from './oauth2/index.js';
import rateLimit from './rate-limit/index.js';
import requestSize from './request-size/index.js';
import validate from './validate/index.js';

export const builtinPlugins: readonly PluginDefinition[] = [apiKey, body, cache, compress, cors, headers, ipFilter, jwt, oauth2, rateLimit, requestSize, validate] as unknown as PluginDefinition[];
