/** Runs each plugin's create() for one route and groups the hooks it returns by lifecycle stage. */
import type { FastifyBaseLogger } from 'fastify';
import { ConfigError } from '../config/diagnostics.js';
import type { PluginUse } from '../config/snapshot.js';
import type { SharedRedis } from '../redis/shared-redis.js';
import { HOOK_NAMES, type HookName, type PluginRouteInfo } from './define.js';

export type HookLists = Partial<Record<HookName, unknown[]>>;

export interface BuiltChain {
  hooks: HookLists;
  /** Plugins that returned hooks, in run order (for explain and logs). */
  active: string[];
  /** Methods active plugins answer themselves (PluginDefinition.answersMethods). */
  answersMethods: string[];
}

export async function buildChain(
  uses: readonly PluginUse[],
  route: PluginRouteInfo,
  logger: FastifyBaseLogger,
  services: readonly string[],
  redis?: SharedRedis,
): Promise<BuiltChain> {
  const hooks: HookLists = {};
  const active: string[] = [];
  const answersMethods = new Set<string>();
  for (const use of uses) {
    let made;
    try {
      made = await use.definition.create(use.config as never, {
        logger: logger.child({ route: route.id, plugin: use.name }),
        route,
        configDir: use.configDir,
        services,
        redis,
      });
    } catch (err) {
      throw new ConfigError([{ file: use.where.file, line: use.where.line, col: use.where.col, path: `plugin ${use.name} (route ${route.id})`, message: (err as Error).message }]);
    }
    if (!made) continue;
    active.push(use.name);
    for (const m of use.definition.answersMethods ?? []) answersMethods.add(m);
    for (const name of HOOK_NAMES) {
      const fn = made[name];
      if (typeof fn === 'function') (hooks[name] ??= []).push(fn);
    }
  }
  return { hooks, active, answersMethods: [...answersMethods] };
}
