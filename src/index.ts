/** The public API of the `gatehouse` package: what custom plugins and embedders import. */
export { Type } from '@sinclair/typebox';
export type { Static, StaticDecode, TSchema } from '@sinclair/typebox';
export { definePlugin } from './plugins/define.js';
export type { PluginContext, PluginDefinition, PluginHooks, PluginRouteInfo } from './plugins/define.js';
export type { SharedRedis, RedisOnError } from './redis/shared-redis.js';
export { RedisUnavailableError } from './redis/shared-redis.js';
export { GatewayError, ERRORS } from './errors.js';
export type { ErrorCode, Problem } from './errors.js';
export { stateOf } from './request-state.js';
export type { RequestState } from './request-state.js';
export { loadConfig } from './config/load.js';
export type { LoadOptions } from './config/load.js';
export { ConfigError, formatIssue } from './config/diagnostics.js';
export type { ConfigIssue } from './config/diagnostics.js';
export type { Snapshot } from './config/snapshot.js';
export { Gateway } from './server.js';
export type { GatewayOptions, ReloadResult } from './server.js';
export type { FastifyReply, FastifyRequest } from 'fastify';
