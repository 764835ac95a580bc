/** The plugin API: the same for built-in and custom plugins. */
import type { StaticDecode, TSchema } from '@sinclair/typebox';
import type {
  FastifyBaseLogger,
  onErrorAsyncHookHandler,
  onRequestAsyncHookHandler,
  onResponseAsyncHookHandler,
  onSendAsyncHookHandler,
  preHandlerAsyncHookHandler,
  preParsingAsyncHookHandler,
  preValidationAsyncHookHandler,
} from 'fastify';
import type { SharedRedis } from '../redis/shared-redis.js';

/** What a plugin's create() learns about the route it is set up for. */
export interface PluginRouteInfo {
  readonly id: string;
  readonly path: string;
  readonly methods: readonly string[];
  /** The service the route proxies to, when it has one. */
  readonly service?: string;
}

export interface PluginContext {
  /** A pino child logger carrying the route id and the plugin's name. */
  readonly logger: FastifyBaseLogger;
  readonly route: PluginRouteInfo;
  /** Directory of the file that configured the plugin: resolve relative paths from it. */
  readonly configDir: string;
  /** Names of the services the snapshot knows. */
  readonly services: readonly string[];
  /** The gateway's shared Redis connection; absent when gatehouse.yaml has no `redis` (use memory then). */
  readonly redis?: SharedRedis;
}

/**
 * Fastify hooks a plugin may return. They run in Fastify's lifecycle order; within one hook,
 * global plugins first, then the route's, in the order listed.
 */
export interface PluginHooks {
  onRequest?: onRequestAsyncHookHandler;
  preParsing?: preParsingAsyncHookHandler;
  preValidation?: preValidationAsyncHookHandler;
  preHandler?: preHandlerAsyncHookHandler;
  onSend?: onSendAsyncHookHandler<unknown>;
  onResponse?: onResponseAsyncHookHandler;
  onError?: onErrorAsyncHookHandler;
}

export const HOOK_NAMES = ['onRequest', 'preParsing', 'preValidation', 'preHandler', 'onSend', 'onResponse', 'onError'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export interface PluginDefinition<S extends TSchema = TSchema> {
  /** The name routes use: `- name: { ...config }`. */
  readonly name: string;
  /** TypeBox schema of the plugin's config; defaults in it are filled before create() sees the config. */
  readonly config: S;
  /** One line shown by `gatehouse explain`. */
  readonly description?: string;
  /**
   * Methods the plugin answers itself (cors: OPTIONS preflights). The gateway registers them on
   * every route where the plugin is active, even when the route's `match.methods` leaves them out.
   */
  readonly answersMethods?: readonly string[];
  /** Called once per route at load. Return hooks, or null when there is nothing to do for this route. */
  create(config: StaticDecode<S>, ctx: PluginContext): PluginHooks | null | Promise<PluginHooks | null>;
}

const BRAND = Symbol.for('gatehouse.plugin');

/** A symbol in the global registry: recognised across copies of this module (a plugin importing the package build). */
const HEADERS_ONLY = Symbol.for('gatehouse.headersOnly');

/**
 * Marks an onSend hook that only sets response headers and returns the payload it was given.
 * A proxy route whose onSend hooks are all marked streams the upstream body straight into the
 * response (no Fastify send in between): the proxy runs the marked hooks on the answer's head,
 * after the upstream's headers are set, just as Fastify would.
 */
export function headersOnly<F extends onSendAsyncHookHandler>(hook: F): F {
  (hook as F & { [HEADERS_ONLY]?: true })[HEADERS_ONLY] = true;
  return hook;
}

export function isHeadersOnly(hook: unknown): boolean {
  return typeof hook === 'function' && (hook as { [HEADERS_ONLY]?: true })[HEADERS_ONLY] === true;
}

/** Declares a plugin. The returned object is what a file in `plugins/` exports by default. */
export function definePlugin<S extends TSchema>(definition: PluginDefinition<S>): PluginDefinition<S> {
  if (!definition || typeof definition.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(definition.name)) {
    throw new TypeError('definePlugin: name must be lower-case letters, digits and dashes, starting with a letter');
  }
  if (typeof definition.create !== 'function') throw new TypeError(`definePlugin(${definition.name}): create must be a function`);
  if (!definition.config || typeof definition.config !== 'object') throw new TypeError(`definePlugin(${definition.name}): config must be a TypeBox schema`);
  Object.defineProperty(definition, BRAND, { value: true });
  return definition;
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PluginDefinition).name === 'string' &&
    typeof (value as PluginDefinition).create === 'function' &&
    typeof (value as PluginDefinition).config === 'object'
  );
}
