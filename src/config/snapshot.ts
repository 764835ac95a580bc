/** The immutable result of loading every config file: what the gateway serves from. */
import type { PluginDefinition } from '../plugins/define.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { RouteTable } from '../routing/route-table.js';
import type { AggregatePlan } from '../targets/aggregate/plan.js';
import type { GrpcCall, IngressCall } from '../targets/grpc/binding.js';
import type { LoadedProto } from '../targets/grpc/proto.js';
import type { HttpMatch, RedisSettings, RouteConfig, ServiceConfig, Settings, StreamConfig } from './schema.js';

export interface Where {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface PluginUse {
  readonly name: string;
  readonly definition: PluginDefinition;
  /** The decoded config, defaults filled. */
  readonly config: unknown;
  readonly where: Where;
  readonly configDir: string;
}

export interface TargetSpec {
  readonly url: string;
  readonly weight: number;
}

export interface ServiceEntry extends ServiceConfig {
  readonly name: string;
  readonly where: Where;
  /** `discovery.static`'s targets, checked at load; empty for the other providers (they find theirs at run time). */
  readonly targets: readonly TargetSpec[];
  /** gatehouse.yaml's `redis`, attached when the service uses `discovery.redis` (and part of its fingerprint). */
  readonly discoveryRedis?: RedisSettings;
  /** File contents for tls.ca / cert / key, read at load. */
  readonly tlsMaterial?: { ca?: string; cert?: string; key?: string; servername?: string };
  /** A stable fingerprint: unchanged services keep their pools across reloads. */
  readonly fingerprint: string;
}

export interface RouteEntry extends RouteConfig {
  /** Always set: `grpc: { annotations: true }` routes get one entry per google.api.http rule. */
  readonly match: HttpMatch;
  /** gRPC ingress routes: the method whose calls this route serves (its match is internal, see targets/grpc/ingress-route.ts). */
  readonly ingress?: IngressCall;
  /** The gRPC method a grpc route calls and how the REST request binds to it. */
  readonly grpcCall?: GrpcCall;
  readonly where: Where;
  readonly methods: readonly string[];
  readonly routePlugins: readonly PluginUse[];
  /** For an aggregate route: its backends' dependency graph and compiled templates. */
  readonly aggregatePlan?: AggregatePlan;
}

export interface StreamEntry extends StreamConfig {
  /** The bind address: the stream's own `host`, else server.host. */
  readonly host: string;
  readonly where: Where;
  /** tls.cert / tls.key file contents, read at load. */
  readonly tlsMaterial?: { readonly cert: string; readonly key: string };
}

export interface Snapshot {
  readonly settings: Settings;
  /** Absolute path of gatehouse.yaml, or undefined when the embedded defaults are used. */
  readonly configFile: string | undefined;
  readonly routesDir: string;
  readonly pluginsDir: string;
  readonly files: readonly string[];
  readonly services: ReadonlyMap<string, ServiceEntry>;
  readonly routes: readonly RouteEntry[];
  /** Layer-4 routes (`streams:` of the route files), in file order. */
  readonly streams: readonly StreamEntry[];
  /** The routes' table (matching outside Fastify: explain, 405 Allow lists), built once at load. */
  readonly table: RouteTable<RouteEntry>;
  readonly globalPlugins: readonly PluginUse[];
  readonly registry: PluginRegistry;
  readonly tls?: { cert: string; key: string };
  /** gatehouse.yaml grpcServer with its protos parsed. */
  readonly grpcServer?: { readonly host: string; readonly port: number; readonly protos: readonly LoadedProto[] };
}
