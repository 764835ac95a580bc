/**
 * The config schemas. They validate the files, fill defaults, and give the TypeScript
 * types (`StaticDecode`), so the two never drift apart.
 */
import { Type, type StaticDecode, type TSchema } from '@sinclair/typebox';
import { DURATION_PATTERN, SIZE_PATTERN, parseDuration, parseSize } from './units.js';

const DURATION_HINT = 'must be a duration such as 250ms, 5s, 1m, 1h or a number of milliseconds';
const SIZE_HINT = 'must be a size such as 512kb, 1mb or a number of bytes';

/** A duration, decoded to milliseconds. */
export const Duration = (options: { default?: string | number } = {}) =>
  Type.Transform(
    Type.Union([Type.String({ pattern: DURATION_PATTERN }), Type.Integer({ minimum: 0 })], { errorMessage: DURATION_HINT, ...options }),
  )
    .Decode((v) => parseDuration(v))
    .Encode((v) => v);

/** A size, decoded to bytes. */
export const Size = (options: { default?: string | number } = {}) =>
  Type.Transform(Type.Union([Type.String({ pattern: SIZE_PATTERN }), Type.Integer({ minimum: 0 })], { errorMessage: SIZE_HINT, ...options }))
    .Decode((v) => parseSize(v))
    .Encode((v) => v);

const Strict = { additionalProperties: false } as const;

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const Method = Type.Union(
  HTTP_METHODS.map((m) => Type.Literal(m)),
  { errorMessage: `must be one of ${HTTP_METHODS.join(', ')}` },
);

/** `- name` or `- name: { ...config }`, one plugin per list item. */
export const PluginRef = Type.Union([Type.String({ minLength: 1 }), Type.Record(Type.String(), Type.Unknown(), { minProperties: 1, maxProperties: 1 })], {
  errorMessage: 'must be a plugin name or a map with exactly one plugin name as its key',
});
export const PluginList = Type.Array(PluginRef, { default: [] });

export const TlsFiles = Type.Object({ cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, Strict);

export const Settings = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        workers: Type.Union([Type.Integer({ minimum: 1, maximum: 256 }), Type.Literal('auto')], { default: 1, errorMessage: 'must be a whole number >= 1 or "auto"' }),
        trustProxy: Type.Union([Type.Boolean(), Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
          default: false,
          errorMessage: 'must be true, false, a hop count or a list of CIDRs',
        }),
        bodyLimit: Size({ default: '1mb' }),
        timeouts: Type.Object(
          {
            request: Duration({ default: '30s' }),
            headers: Duration({ default: '10s' }),
            keepAlive: Duration({ default: '72s' }),
          },
          { ...Strict, default: {} },
        ),
        /** How long SIGTERM waits for in-flight requests before closing what is left. */
        shutdownGrace: Duration({ default: '30s' }),
        tls: Type.Optional(TlsFiles),
      },
      { ...Strict, default: {} },
    ),
    admin: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9901 }),
        token: Type.String({ default: '' }),
        enabled: Type.Boolean({ default: true }),
      },
      { ...Strict, default: {} },
    ),
    redis: Type.Optional(
      Type.Object(
        {
          url: Type.Optional(Type.String({ pattern: '^rediss?://' , errorMessage: 'must be a redis:// or rediss:// URL' })),
          cluster: Type.Optional(Type.Array(Type.String({ pattern: '^[^:]+:\\d+$', errorMessage: 'must be host:port' }), { minItems: 1 })),
          keyPrefix: Type.String({ default: 'gatehouse:' }),
          commandTimeout: Duration({ default: '50ms' }),
          onError: Type.Union([Type.Literal('allow'), Type.Literal('deny')], { default: 'allow', errorMessage: 'must be allow or deny' }),
        },
        Strict,
      ),
    ),
    routes: Type.String({ default: './routes.d' }),
    plugins: Type.String({ default: './plugins' }),
    globalPlugins: PluginList,
    logging: Type.Object(
      {
        level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), {
          default: 'info',
          errorMessage: 'must be one of fatal, error, warn, info, debug, trace, silent',
        }),
        accessLog: Type.Boolean({ default: true }),
      },
      { ...Strict, default: {} },
    ),
    tracing: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...Strict, default: {} }),
    /** gRPC ingress: serves the google.api.http-annotated methods of `protos` to gRPC clients. */
    grpcServer: Type.Optional(
      Type.Object(
        {
          host: Type.String({ default: '0.0.0.0' }),
          port: Type.Integer({ minimum: 0, maximum: 65535, default: 50051 }),
          /** .proto files, relative to gatehouse.yaml. */
          protos: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
        },
        Strict,
      ),
    ),
  },
  Strict,
);
export type Settings = StaticDecode<typeof Settings>;

export const StaticTarget = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Object({ url: Type.String({ minLength: 1 }), weight: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }) }, Strict),
  ],
  { errorMessage: 'must be a URL or { url, weight }' },
);

export const Discovery = Type.Object(
  {
    static: Type.Array(StaticTarget, { minItems: 1 }),
  },
  Strict,
);

export const Service = Type.Object(
  {
    protocol: Type.Union([Type.Literal('http'), Type.Literal('https'), Type.Literal('grpc')], { default: 'http', errorMessage: 'must be http, https or grpc' }),
    discovery: Discovery,
    loadBalancer: Type.Union([Type.Literal('round-robin')], { default: 'round-robin', errorMessage: 'must be round-robin' }),
    /** Time allowed for the upstream's response headers, and the longest pause while its body streams. */
    timeout: Duration({ default: '10s' }),
    connectTimeout: Duration({ default: '5s' }),
    /** Upper bound of keep-alive connections per target (0 = unbounded). */
    maxConnections: Type.Integer({ minimum: 0, default: 0 }),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Type.String({ minLength: 1 })),
          cert: Type.Optional(Type.String({ minLength: 1 })),
          key: Type.Optional(Type.String({ minLength: 1 })),
          servername: Type.Optional(Type.String({ minLength: 1 })),
        },
        Strict,
      ),
    ),
  },
  // `default` makes TypeBox fill this object's defaults inside the services map.
  { ...Strict, default: {} },
);
export type ServiceConfig = StaticDecode<typeof Service>;

export const GRPC_METHOD_PATTERN = '^[A-Za-z_][A-Za-z0-9_.]*/[A-Za-z_][A-Za-z0-9_]*$';

export const Match = Type.Object(
  {
    /** Required, except on gRPC ingress routes (`grpc` below). */
    path: Type.Optional(Type.String({ pattern: '^/', errorMessage: 'must start with /' })),
    /** gRPC ingress: calls of this method (from gatehouse.yaml grpcServer.protos) go to the route's upstream. */
    grpc: Type.Optional(Type.String({ pattern: GRPC_METHOD_PATTERN, errorMessage: 'must be pkg.Service/Method' })),
    methods: Type.Optional(Type.Array(Method, { minItems: 1, uniqueItems: true })),
    host: Type.Optional(Type.String({ pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$', errorMessage: 'must be a host name or *.domain' })),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }), Type.String())),
  },
  Strict,
);

export const Upstream = Type.Object(
  {
    service: Type.String({ minLength: 1 }),
    stripPrefix: Type.Optional(Type.String({ pattern: '^/', errorMessage: 'must start with /' })),
    rewrite: Type.Optional(Type.String({ pattern: '^/', errorMessage: 'must start with /' })),
    /** Send the client's Host header upstream instead of the target's. */
    preserveHost: Type.Boolean({ default: false }),
    /** Upstream response headers kept that the gateway removes by default (Server, X-Powered-By). */
    keepHeaders: Type.Array(Type.String(), { default: [] }),
    /** Route-level override of the service's timeout. */
    timeout: Type.Optional(Duration()),
  },
  Strict,
);

const HeaderName = Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', errorMessage: 'must be a header name' });

/** REST -> gRPC: one method (`method`), or every google.api.http-annotated method (`annotations: true`). */
export const GrpcTarget = Type.Object(
  {
    /** A service with protocol: grpc. */
    service: Type.String({ minLength: 1 }),
    /** The .proto file, relative to the route file's directory. */
    proto: Type.String({ minLength: 1 }),
    method: Type.Optional(Type.String({ pattern: GRPC_METHOD_PATTERN, errorMessage: 'must be pkg.Service/Method' })),
    annotations: Type.Optional(Type.Boolean()),
    /** Path prefix of every annotated route. */
    prefix: Type.String({ pattern: '^/', errorMessage: 'must start with /', default: '/' }),
    /** Route-level override of the service's timeout; sent as grpc-timeout. */
    timeout: Type.Optional(Duration()),
    metadata: Type.Object(
      {
        /** Request headers sent as gRPC metadata (x-request-id and traceparent always are). */
        request: Type.Array(HeaderName, { default: [] }),
        /** Response metadata keys copied to response headers. */
        response: Type.Array(HeaderName, { default: [] }),
      },
      { ...Strict, default: {} },
    ),
  },
  Strict,
);

export const Route = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', errorMessage: 'must be letters, digits, _ . : or -, starting with a letter or digit' }),
    /** Required except on `grpc: { annotations: true }` routes, whose paths come from the proto. */
    match: Type.Optional(Match),
    upstream: Type.Optional(Upstream),
    aggregate: Type.Optional(Type.Unknown()),
    grpc: Type.Optional(GrpcTarget),
    plugins: PluginList,
  },
  Strict,
);
export type RouteConfig = StaticDecode<typeof Route>;
export type MatchConfig = StaticDecode<typeof Match>;
/** The match of a route the HTTP router serves: it always has a path. */
export type HttpMatch = MatchConfig & { readonly path: string };
export type GrpcTargetConfig = StaticDecode<typeof GrpcTarget>;

export const RouteFile = Type.Object(
  {
    services: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }), Service, { default: {} }),
    routes: Type.Array(Route, { default: [] }),
  },
  Strict,
);
export type RouteFile = StaticDecode<typeof RouteFile>;

export type AnySchema = TSchema;
