/** Reads gatehouse.yaml and routes.d/, validates everything, and freezes the result into a Snapshot. */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PluginRegistry } from '../plugins/registry.js';
import { loadRegistry } from '../plugins/registry.js';
import { ConfigError, type ConfigIssue, type Segment } from './diagnostics.js';
import { Resolver } from 'node:dns';
import { checkTargetUrl } from '../discovery/target-url.js';
import { DISCOVERY_PROVIDERS, Settings, HTTP_METHODS, type RedisSettings, type ServiceConfig } from './schema.js';
import type { PluginUse, RouteEntry, ServiceEntry, Snapshot, TargetSpec, Where } from './snapshot.js';
import { displayPath, readSource, type SourceFile } from './source.js';
import { didYouMean } from './suggest.js';
import { check } from './validate.js';
import { checkRouteFile } from './route-file-check.js';
import { checkRoutePatterns } from '../routing/route-patterns.js';
import { checkAdminExposure } from '../admin/exposure.js';
import { checkBalancing, checkHttp2, checkTcpService } from './service-checks.js';
import { StreamCollector, tcpServiceMisuse } from './streams.js';
import { planAggregate, type AggregatePlan } from '../targets/aggregate/plan.js';
import { resolveGrpcRoute, type PendingGrpcRoute, type ProtoCache } from '../targets/grpc/resolve.js';
import { loadServerProtos, resolveIngressRoute } from '../targets/grpc/ingress-route.js';

export interface LoadOptions {
  /** gatehouse.yaml; when absent (and not given explicitly) the embedded defaults apply. */
  configFile?: string;
  /** Overrides `routes` from gatehouse.yaml. */
  routesDir?: string;
  env?: NodeJS.ProcessEnv;
}

const ROUTE_FILE = /^[^.#~][^/]*\.(ya?ml|json)$/;

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a key sits; line and column are looked up when first read (most never are). A class,
 * not an object literal with getters: literals with their own getter closures each get a hidden
 * class of their own (with 10,000 routes, ~8 MB of heap a config).
 */
class LazyWhere implements Where {
  private at: { line: number; col: number } | undefined;

  constructor(
    readonly file: string,
    // Only the locate function is kept, not the source with its parsed data.
    private readonly locate: SourceFile['locate'],
    private readonly path: readonly Segment[],
  ) {}

  get line(): number {
    return (this.at ??= this.locate(this.path)).line;
  }

  get col(): number {
    return (this.at ??= this.locate(this.path)).col;
  }

  toJSON(): { file: string; line: number; col: number } {
    return { file: this.file, line: this.line, col: this.col };
  }
}

function whereOf(source: SourceFile, p: readonly Segment[]): Where {
  return new LazyWhere(source.display, source.locate, p);
}

function resolvePlugins(
  refs: readonly unknown[],
  source: SourceFile,
  base: readonly Segment[],
  registry: PluginRegistry,
  issues: ConfigIssue[],
): PluginUse[] {
  const uses: PluginUse[] = [];
  refs.forEach((ref, i) => {
    const [name, raw] = typeof ref === 'string' ? [ref, undefined] : Object.entries(ref as Record<string, unknown>)[0]!;
    const at = [...base, i];
    const definition = registry.get(name);
    if (!definition) {
      issues.push(source.issue(typeof ref === 'string' ? at : [...at, name], `unknown plugin "${name}"${didYouMean(name, registry.names())}`));
      return;
    }
    const config = check(definition.config, raw ?? {}, source, [...at, name], issues);
    if (config === undefined) return;
    uses.push({ name, definition, config, where: whereOf(source, typeof ref === 'string' ? at : [...at, name]), configDir: path.dirname(source.absolute) });
  });
  return uses;
}

function targetsOf(protocol: string, list: readonly (string | { url: string; weight: number })[], source: SourceFile, base: Segment[], issues: ConfigIssue[]): TargetSpec[] {
  const out: TargetSpec[] = [];
  list.forEach((t, i) => {
    const spec = typeof t === 'string' ? { url: t, weight: 1 } : t;
    const checked = checkTargetUrl(spec.url, protocol);
    if (!checked.ok) {
      issues.push(source.issue(typeof t === 'string' ? [...base, i] : [...base, i, 'url'], checked.reason));
      return;
    }
    out.push({ url: checked.url, weight: spec.weight });
  });
  return out;
}

/**
 * `discovery` holds exactly one provider. Returns the static targets (empty for the other
 * providers) and the redis settings that redis discovery connects with.
 */
function checkDiscovery(
  svc: ServiceConfig,
  settings: Settings | undefined,
  source: SourceFile,
  base: Segment[],
  issues: ConfigIssue[],
): { targets: TargetSpec[]; discoveryRedis?: RedisSettings } {
  const d = svc.discovery;
  const at: Segment[] = [...base, 'discovery'];
  const used = DISCOVERY_PROVIDERS.filter((k) => d[k] !== undefined);
  if (used.length === 0) {
    issues.push(source.issue(at, `needs exactly one provider: ${DISCOVERY_PROVIDERS.join(', ')}`));
    return { targets: [] };
  }
  if (used.length > 1) {
    issues.push(source.issue([...at, used[1]!], `has more than one provider (${used.join(', ')}); keep one`));
    return { targets: [] };
  }
  if (d.static) return { targets: targetsOf(svc.protocol, d.static, source, [...at, 'static'], issues) };
  if (d.dns?.servers) {
    d.dns.servers.forEach((server, i) => {
      try {
        new Resolver().setServers([server]);
      } catch {
        issues.push(source.issue([...at, 'dns', 'servers', i], `"${server}" is not a DNS server address (write 10.0.0.2, 10.0.0.2:53 or [::1]:53)`));
      }
    });
  }
  if (d.etcd) {
    d.etcd.endpoints.forEach((endpoint, i) => {
      if (!checkTargetUrl(endpoint, new URL(endpoint).protocol.slice(0, -1)).ok) {
        issues.push(source.issue([...at, 'etcd', 'endpoints', i], `"${endpoint}" must be an http(s)://host:port URL without a path`));
      }
    });
  }
  if (d.redis) {
    if (!settings?.redis) {
      issues.push(source.issue([...at, 'redis'], 'redis discovery needs the `redis` settings in gatehouse.yaml (redis.url or redis.cluster)'));
      return { targets: [] };
    }
    return { targets: [], discoveryRedis: settings.redis };
  }
  return { targets: [] };
}

async function readRelative(source: SourceFile, p: Segment[], file: string | undefined, issues: ConfigIssue[]): Promise<string | undefined> {
  if (file === undefined) return undefined;
  const abs = path.resolve(path.dirname(source.absolute), file);
  try {
    return await readFile(abs, 'utf8');
  } catch (err) {
    issues.push(source.issue(p, `cannot read ${displayPath(abs)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`));
    return undefined;
  }
}

interface Placed<T> {
  value: T;
  source: SourceFile;
  path: Segment[];
}

/**
 * Loads and validates every config file. Throws ConfigError listing every problem found.
 * `running`: the snapshot being served (on reload), whose route table the new one takes over
 * when the routes match the same requests.
 */
export async function loadConfig(options: LoadOptions = {}, running?: Snapshot): Promise<Snapshot> {
  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const explicit = options.configFile !== undefined;
  const configFile = path.resolve(options.configFile ?? 'gatehouse.yaml');
  let settingsSource: SourceFile | undefined;
  let settings: Settings | undefined;
  const files: string[] = [];

  if (explicit || (await exists(configFile))) {
    settingsSource = await readSource(configFile, env, issues);
    if (settingsSource) {
      files.push(settingsSource.absolute);
      settings = check(Settings, settingsSource.data, settingsSource, [], issues);
      const exposed = settings && checkAdminExposure(settings.admin);
      if (exposed) issues.push(settingsSource.issue(['admin', 'host'], exposed));
    }
  } else {
    const fake: SourceFile = {
      display: '<defaults>',
      absolute: configFile,
      data: {},
      locate: () => ({ line: 1, col: 1 }),
      issue: (_p, message) => ({ file: '<defaults>', line: 1, col: 1, path: '', message }),
    };
    settings = check(Settings, {}, fake, [], issues);
  }
  const configDir = path.dirname(configFile);
  const routesDir = path.resolve(options.routesDir ?? path.resolve(configDir, settings?.routes ?? './routes.d'));
  const pluginsDir = path.resolve(configDir, settings?.plugins ?? './plugins');
  const registry = await loadRegistry(pluginsDir, issues);

  let tls: Snapshot['tls'];
  if (settings?.server.tls && settingsSource) {
    const cert = await readRelative(settingsSource, ['server', 'tls', 'cert'], settings.server.tls.cert, issues);
    const key = await readRelative(settingsSource, ['server', 'tls', 'key'], settings.server.tls.key, issues);
    if (cert && key) tls = { cert, key };
  }

  const globalPlugins =
    settings && settingsSource ? resolvePlugins(settings.globalPlugins, settingsSource, ['globalPlugins'], registry, issues) : [];

  const grpcServerProtos =
    settings?.grpcServer && settingsSource ? await loadServerProtos(settingsSource, settings.grpcServer.protos, issues) : undefined;

  // Route files, in name order.
  let names: string[] = [];
  try {
    names = (await readdir(routesDir)).filter((f) => ROUTE_FILE.test(f)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || options.routesDir !== undefined) {
      issues.push({ file: displayPath(routesDir), line: 1, col: 1, path: '', message: `cannot read routes directory: ${code ?? (err as Error).message}` });
    }
  }
  const services = new Map<string, Placed<ServiceEntry>>();
  const routes: Placed<RouteEntry>[] = [];
  const routeIds = new Map<string, Placed<unknown>>();
  const grpcRoutes: PendingGrpcRoute[] = [];
  const streams = new StreamCollector(settings, issues, (source, p, file) => readRelative(source, p, file, issues));

  for (const name of names) {
    const source = await readSource(path.join(routesDir, name), env, issues);
    if (!source) continue;
    files.push(source.absolute);
    const data = source.data;
    const parsed = await checkRouteFile(data, source, issues);
    if (!parsed) continue;

    for (const [svcName, svc] of Object.entries(parsed.services)) {
      const p: Segment[] = ['services', svcName];
      const prior = services.get(svcName);
      if (prior) {
        const w = whereOf(prior.source, prior.path);
        issues.push(source.issue(p, `service "${svcName}" is defined twice: here and in ${w.file}:${w.line}:${w.col}`));
        continue;
      }
      const { targets, discoveryRedis } = checkDiscovery(svc, settings, source, p, issues);
      checkBalancing(svc, source, p, issues);
      checkHttp2(svc, source, p, issues);
      checkTcpService(svc, source, p, issues);
      if (svc.circuitBreaker && svc.circuitBreaker.rollingWindow < 100) {
        issues.push(source.issue([...p, 'circuitBreaker', 'rollingWindow'], 'must be at least 100ms'));
      }
      const tlsMaterial = svc.tls
        ? {
            ca: await readRelative(source, [...p, 'tls', 'ca'], svc.tls.ca, issues),
            cert: await readRelative(source, [...p, 'tls', 'cert'], svc.tls.cert, issues),
            key: await readRelative(source, [...p, 'tls', 'key'], svc.tls.key, issues),
            servername: svc.tls.servername,
          }
        : undefined;
      const entry: ServiceEntry = { ...svc, name: svcName, where: whereOf(source, p), targets, discoveryRedis, tlsMaterial, fingerprint: '' };
      services.set(svcName, {
        value: Object.freeze({ ...entry, fingerprint: JSON.stringify({ ...svc, tlsMaterial, targets, discoveryRedis }) }),
        source,
        path: p,
      });
    }

    await streams.add(parsed.streams, source);

    parsed.routes.forEach((route, i) => {
      const p: Segment[] = ['routes', i];
      const prior = routeIds.get(route.id);
      if (prior) {
        const w = whereOf(prior.source, prior.path);
        issues.push(source.issue([...p, 'id'], `route id "${route.id}" is used twice: here and in ${w.file}:${w.line}:${w.col}`));
        return;
      }
      routeIds.set(route.id, { value: route, source, path: [...p, 'id'] });
      const targets = (['upstream', 'aggregate', 'grpc'] as const).filter((k) => route[k] !== undefined);
      if (targets.length === 0) {
        issues.push(source.issue(p, 'needs a target: upstream, aggregate or grpc'));
        return;
      }
      if (targets.length > 1) {
        issues.push(source.issue([...p, targets[1]!], `has more than one target (${targets.join(', ')}); keep one`));
        return;
      }
      const methods = route.match?.methods ?? HTTP_METHODS;
      if (route.grpc !== undefined) {
        const routePlugins = resolvePlugins(route.plugins, source, [...p, 'plugins'], registry, issues);
        grpcRoutes.push({ route, source, path: p, routePlugins, methods });
        return;
      }
      if (route.match?.grpc !== undefined) {
        const routePlugins = resolvePlugins(route.plugins, source, [...p, 'plugins'], registry, issues);
        const entry = resolveIngressRoute({ route, source, path: p, routePlugins }, grpcServerProtos, issues);
        if (entry) routes.push({ value: entry, source, path: p });
        return;
      }
      if (route.match?.path === undefined) {
        issues.push(source.issue(route.match ? [...p, 'match'] : p, 'needs match.path'));
        return;
      }
      const match = { ...route.match, path: route.match.path };
      let aggregatePlan: AggregatePlan | undefined;
      if (route.aggregate !== undefined) {
        const planned = planAggregate(route.aggregate, match.path);
        for (const problem of planned.problems) issues.push(source.issue([...p, 'aggregate', ...problem.path], problem.message));
        aggregatePlan = planned.plan;
      }
      const up = route.upstream;
      if (up?.stripPrefix !== undefined && up.rewrite !== undefined) {
        issues.push(source.issue([...p, 'upstream', 'rewrite'], 'use either stripPrefix or rewrite, not both'));
      }
      const fb = route.fallback;
      if (fb && fb.cache === undefined && fb.status === undefined && fb.headers === undefined && fb.body === undefined) {
        issues.push(source.issue([...p, 'fallback'], 'needs a static response (status, headers, body) or cache: stale'));
      }
      const routePlugins = resolvePlugins(route.plugins, source, [...p, 'plugins'], registry, issues);
      routes.push({
        value: Object.freeze({ ...route, match, methods, routePlugins, where: whereOf(source, p), ...(aggregatePlan ? { aggregatePlan } : {}) }),
        source,
        path: p,
      });
    });
  }

  // References between files: every upstream service must exist.
  for (const r of routes) {
    const svc = r.value.upstream?.service;
    if (svc !== undefined && !services.has(svc)) {
      issues.push(r.source.issue([...r.path, 'upstream', 'service'], `unknown service "${svc}"${didYouMean(svc, services.keys())}`));
    }
    const misuse = svc !== undefined ? tcpServiceMisuse(services.get(svc)?.value) : undefined;
    if (misuse) issues.push(r.source.issue([...r.path, 'upstream', 'service'], misuse));
    r.value.aggregate?.backends.forEach((b, i) => {
      if (!services.has(b.service)) {
        issues.push(r.source.issue([...r.path, 'aggregate', 'backends', i, 'service'], `unknown service "${b.service}"${didYouMean(b.service, services.keys())}`));
      }
      const backendMisuse = tcpServiceMisuse(services.get(b.service)?.value);
      if (backendMisuse) issues.push(r.source.issue([...r.path, 'aggregate', 'backends', i, 'service'], backendMisuse));
    });
  }
  // grpc routes need every service (they may live in another file) and their protos.
  const serviceEntries = new Map([...services].map(([k, v]) => [k, v.value]));
  const protos: ProtoCache = new Map();
  for (const pending of grpcRoutes) routes.push(...(await resolveGrpcRoute(pending, serviceEntries, protos, issues)));
  const table = await checkRoutePatterns(routes, issues, running?.table);
  const streamEntries = streams.finish(serviceEntries);

  if (issues.length > 0 || !settings) throw new ConfigError(issues);
  return Object.freeze({
    settings,
    configFile: settingsSource?.absolute,
    routesDir,
    pluginsDir,
    files,
    services: new Map([...services].map(([k, v]) => [k, v.value])),
    routes: routes.map((r) => r.value),
    streams: streamEntries,
    table,
    globalPlugins,
    registry,
    tls,
    grpcServer: settings.grpcServer && grpcServerProtos ? { host: settings.grpcServer.host, port: settings.grpcServer.port, protos: grpcServerProtos } : undefined,
  });
}
