/** The plugins that ship with the gateway. */
import type { PluginDefinition } from './define.js';
import apiKey from './api-key/index.js';
import headers from './headers/index.js';
import jwt from './jwt/index.js';
import oauth2 from './oauth2/index.js';
import requestSize from './request-size/index.js';

export const builtinPlugins: readonly PluginDefinition[] = [apiKey, headers, jwt, oauth2, requestSize] as unknown as PluginDefinition[];
