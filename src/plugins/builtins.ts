/** The plugins that ship with the gateway. */
import type { PluginDefinition } from './define.js';
import cache from './cache/index.js';
import cors from './cors/index.js';
import headers from './headers/index.js';
import ipFilter from './ip-filter/index.js';
import rateLimit from './rate-limit/index.js';
import requestSize from './request-size/index.js';

export const builtinPlugins: readonly PluginDefinition[] = [headers, requestSize, rateLimit, cache, cors, ipFilter] as unknown as PluginDefinition[];
