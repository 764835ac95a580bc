/**
 * The config schemas. They validate the files, fill defaults, and give the TypeScript
 * types (`StaticDecode`), so the two never drift apart.
 */
import { Type, type StaticDecode, type TLiteral, type TSchema } from '@sinclair/typebox';
import { DURATION_PATTERN, SIZE_PATTERN, parseDuration, parseSize } from './units.js';
import { HASH_KEY_HINT, HASH_KEY_PATTERN } from '../balancers/hash-key.js';

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

/** One Type.Literal per value, keeping each literal's type. */
function literals<const T extends readonly string[]>(values: T): { -readonly [K in keyof T]: TLiteral<T[K]> } {
  return values.map((v) => Type.Literal(v)) as { -readonly [K in keyof T]: TLiteral<T[K]> };
}

export const BALANCER_NAMES = ['round-robin', 'weighted-round-robin', 'least-connections', 'consistent-hash', 'p2c-ewma', 'random'] as const;

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
        /** Adds Server-Timing (gateway and upstream time) to every response. */
        timing: Type.Boolean({ default: false }),
        /** How long SIGTERM waits for in-flight requests before closing what is left. */
        shutdownGrace: Duration({ default: '30s' }),
        tls: Type.Optional(TlsFiles),
        /** HTTP/2: over TLS with ALPN (HTTP/1.1 still served), or cleartext h2c with prior knowledge without `tls`. */
        http2: Type.Boolean({ default: false }),
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
        /** Query parameters whose values the access log replaces with [redacted]. */
        redactQuery: Type.Array(Type.String({ minLength: 1 }), { default: ['api_key', 'apikey', 'key', 'token', 'access_token', 'code', 'password', 'secret'] }),
      },
      { ...Strict, default: {} },
    ),
    tracing: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        serviceName: Type.String({ default: 'gatehouse', minLength: 1 }),
        /** OTLP/HTTP export of spans (e.g. http://collector:4318/v1/traces); absent: propagate only. */
        otlp: Type.Optional(
          Type.Object(
            {
              endpoint: Type.String({ pattern: '^https?://', errorMessage: 'must be an http(s):// URL' }),
              headers: Type.Record(Type.String(), Type.String(), { default: {} }),
              flushInterval: Duration({ default: '1s' }),
            },
            { ...Strict },
          ),
        ),
      },
      { ...Strict, default: {} },
    ),
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
export type RedisSettings = NonNullable<Settings['redis']>;

export const StaticTarget = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Object({ url: Type.String({ minLength: 1 }), weight: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }) }, Strict),
  ],
  { errorMessage: 'must be a URL or { url, weight }' },
);

export const DnsDiscovery = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    type: Type.Union([Type.Literal('SRV'), Type.Literal('A'), Type.Literal('AAAA')], { default: 'SRV', errorMessage: 'must be SRV, A or AAAA' }),
    /** A/AAAA: the targets' port (default: 80 for http, 443 for https). SRV answers carry their own. */
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** Longest time between lookups; A/AAAA answers are looked up again sooner when their TTL says so. */
    refresh: Duration({ default: '10s' }),
    /** DNS servers as host or host:port ([v6]:port); the system resolver's when absent. */
    servers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  },
  Strict,
);

export const EtcdDiscovery = Type.Object(
  {
    endpoints: Type.Array(Type.String({ pattern: '^https?://', errorMessage: 'must be an http:// or https:// URL' }), { minItems: 1 }),
    /** Every key under this prefix is one target. */
    prefix: Type.String({ minLength: 1 }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
  },
  Strict,
);

export const RedisDiscovery = Type.Object(
  {
    /** The sorted set of registered targets; used verbatim (not under redis.keyPrefix). */
    key: Type.String({ minLength: 1 }),
  },
  Strict,
);

/** Exactly one provider; load.ts checks that only one key is set. */
export const Discovery = Type.Object(
  {
    static: Type.Optional(Type.Array(StaticTarget, { minItems: 1 })),
    dns: Type.Optional(DnsDiscovery),
    etcd: Type.Optional(EtcdDiscovery),
    redis: Type.Optional(RedisDiscovery),
  },
  Strict,
);
export type DiscoveryConfig = StaticDecode<typeof Discovery>;
export const DISCOVERY_PROVIDERS = ['static', 'dns', 'etcd', 'redis'] as const;

export const ActiveHealthCheck = Type.Object(
  {
    path: Type.String({ pattern: '^/', default: '/healthz', errorMessage: 'must start with /' }),
    interval: Duration({ default: '5s' }),
    timeout: Duration({ default: '1s' }),
    /** Consecutive passing probes that bring an unhealthy target back. */
    healthy: Type.Integer({ minimum: 1, default: 2 }),
    /** Consecutive failing probes that take a healthy target out. */
    unhealthy: Type.Integer({ minimum: 1, default: 3 }),
    /** Statuses that pass; absent: any 2xx or 3xx. */
    expectStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, uniqueItems: true })),
  },
  Strict,
);

export const PassiveHealthCheck = Type.Object(
  {
    /** Consecutive failures (connect error, timeout, 5xx) that eject a target. */
    failures: Type.Integer({ minimum: 1, default: 5 }),
    ejectFor: Duration({ default: '30s' }),
  },
  Strict,
);

export const HealthCheck = Type.Object(
  {
    active: Type.Optional(ActiveHealthCheck),
    passive: Type.Optional(PassiveHealthCheck),
  },
  { ...Strict, default: {} },
);

// ---- Resilience: circuit breakers, retries, fallbacks (docs/resilience.md) ----

/** Idempotent methods (RFC 9110 9.2.2): the ones retried by default. */
export const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const;

/** What a breaker counts as a failure of its target. 4xx never counts. */
export const BreakerFailure = Type.Union(
  [Type.Literal('connect-error'), Type.Literal('timeout'), Type.Literal('reset'), Type.Literal('5xx'), Type.Integer({ minimum: 500, maximum: 599 })],
  { errorMessage: 'must be connect-error, timeout, reset, 5xx or a status code 500-599' },
);

export const CircuitBreaker = Type.Object(
  {
    /** A call slower than this (to the response head) fails with 504 and counts; default: the service/route timeout. */
    timeout: Type.Optional(Duration()),
    /** The breaker opens when MORE than this share of calls in the window failed. */
    errorThresholdPercentage: Type.Number({ minimum: 0, maximum: 100, default: 50 }),
    /** Calls needed in the window before the breaker may open. */
    volumeThreshold: Type.Integer({ minimum: 0, default: 20 }),
    /** How long an open breaker waits before letting one probe through (half-open). */
    resetTimeout: Duration({ default: '10s' }),
    /** The rolling statistics window (ten buckets). */
    rollingWindow: Duration({ default: '10s' }),
    failOn: Type.Array(BreakerFailure, { minItems: 1, uniqueItems: true, default: ['connect-error', 'timeout', 'reset', '5xx'] }),
  },
  // No default: an absent circuitBreaker means none (write `circuitBreaker: {}` for the defaults).
  Strict,
);
export type CircuitBreakerConfig = StaticDecode<typeof CircuitBreaker>;

export const RetryCondition = Type.Union(
  [Type.Literal('connect-error'), Type.Literal('timeout'), Type.Literal('reset'), Type.Integer({ minimum: 400, maximum: 599 })],
  { errorMessage: 'must be connect-error, timeout, reset or a status code 400-599' },
);

export const RetryBudgetSchema = Type.Object(
  {
    /** Retries may add at most this percentage of the service's requests in the window... */
    percent: Type.Number({ minimum: 0, maximum: 100, default: 20 }),
    /** ...plus this many retries per second of the window, so light traffic can still retry. */
    minPerSecond: Type.Number({ minimum: 0, default: 3 }),
    window: Duration({ default: '10s' }),
  },
  { ...Strict, default: {} },
);

export const Retry = Type.Object(
  {
    /** Retries after the first try (0 = never retry, not even a stale connection). */
    attempts: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
    /** Base of the exponential backoff; each wait is jittered between half and all of min(maxBackoff, backoff * 2^(n-1)). */
    backoff: Duration({ default: '25ms' }),
    /** Longest wait between tries; default 10 x backoff. */
    maxBackoff: Type.Optional(Duration()),
    on: Type.Array(RetryCondition, { minItems: 1, uniqueItems: true, default: ['connect-error', 'reset', 502, 503, 504] }),
    /** Methods retried for conditions other than connect-error (a connection that never opened is safe for any method). */
    methods: Type.Array(Method, { minItems: 1, uniqueItems: true, default: [...IDEMPOTENT_METHODS] }),
    budget: RetryBudgetSchema,
    /** Request bodies up to this size (with a Content-Length) are buffered so a retry can resend them. */
    maxBodySize: Size({ default: '64kb' }),
  },
  // No default: an absent retry keeps the built-in single retry (docs/resilience.md).
  Strict,
);
export type RetryConfig = StaticDecode<typeof Retry>;

export const FallbackCondition = Type.Union(
  [Type.Literal('unavailable'), Type.Literal('circuit-open'), Type.Literal('timeout'), Type.Literal('bad-gateway')],
  { errorMessage: 'must be unavailable, circuit-open, timeout or bad-gateway' },
);

export const Fallback = Type.Object(
  {
    /** `stale`: answer with the last cached copy, even expired (needs a cache on the route). */
    cache: Type.Optional(Type.Literal('stale', { errorMessage: 'must be stale' })),
    status: Type.Optional(Type.Integer({ minimum: 200, maximum: 599 })),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$' }), Type.String())),
    /** A string is sent as is (text/plain unless headers say otherwise); anything else as JSON. */
    body: Type.Optional(Type.Unknown()),
    on: Type.Array(FallbackCondition, { minItems: 1, uniqueItems: true, default: ['unavailable', 'circuit-open'] }),
  },
  Strict,
);
export type FallbackConfig = StaticDecode<typeof Fallback>;

export const Service = Type.Object(
  {
    /** tcp: targets are tcp://host:port, served by `streams:` only (docs/streams.md). */
    protocol: Type.Union([Type.Literal('http'), Type.Literal('https'), Type.Literal('grpc'), Type.Literal('tcp')], { default: 'http', errorMessage: 'must be http, https, grpc or tcp' }),
    discovery: Discovery,
    loadBalancer: Type.Union(literals(BALANCER_NAMES), { default: 'round-robin', errorMessage: `must be one of ${BALANCER_NAMES.join(', ')}` }),
    /** consistent-hash: which part of the request is the key. */
    hashKey: Type.Optional(Type.String({ pattern: HASH_KEY_PATTERN, errorMessage: HASH_KEY_HINT })),
    healthCheck: HealthCheck,
    /** Time allowed for the upstream's response headers, and the longest pause while its body streams. */
    timeout: Duration({ default: '10s' }),
    connectTimeout: Duration({ default: '5s' }),
    /** Upper bound of keep-alive connections per target (0 = unbounded). */
    maxConnections: Type.Integer({ minimum: 0, default: 0 }),
    /** Per-target circuit breaker; absent = none. */
    circuitBreaker: Type.Optional(CircuitBreaker),
    /** Retry policy; absent = only a connection that never opened, or a stale keep-alive one, is retried once. */
    retry: Type.Optional(Retry),
    /** Talk HTTP/2 to the targets: ALPN over https (HTTP/1.1 if the target offers only that), h2c with prior knowledge over http. */
    http2: Type.Boolean({ default: false }),
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

/** true = every 4xx and 5xx; or a list of statuses and classes ("4xx", "5xx"). */
export const ReplaceUpstreamErrors = Type.Union(
  [
    Type.Boolean(),
    Type.Array(Type.Union([Type.Integer({ minimum: 400, maximum: 599 }), Type.Literal('4xx'), Type.Literal('5xx')]), {
      minItems: 1,
      uniqueItems: true,
    }),
  ],
  { default: false, errorMessage: 'must be true, false or a list of statuses 400-599 and "4xx"/"5xx"' },
);
export type ReplaceUpstreamErrorsConfig = StaticDecode<typeof ReplaceUpstreamErrors>;

export const Upstream = Type.Object(
  {
    service: Type.String({ minLength: 1 }),
    stripPrefix: Type.Optional(Type.String({ pattern: '^/', errorMessage: 'must start with /' })),
    rewrite: Type.Optional(Type.String({ pattern: '^/', errorMessage: 'must start with /' })),
    /** Send the client's Host header upstream instead of the target's. */
    preserveHost: Type.Boolean({ default: false }),
    /** Upstream response headers kept that the gateway removes by default (Server, X-Powered-By). */
    keepHeaders: Type.Array(Type.String(), { default: [] }),
    /** More upstream response headers to remove (X-Backend-Version, X-Runtime, ...). */
    hideHeaders: Type.Array(Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', errorMessage: 'must be a header name' }), { default: [] }),
    /** Upstream 4xx/5xx answers replaced by the gateway's problem+json with the same status. */
    replaceUpstreamErrors: ReplaceUpstreamErrors,
    /** Route-level override of the service's timeout. */
    timeout: Type.Optional(Duration()),
    /** Upgrade requests on this route become WebSocket connections to the service (docs/websocket.md). */
    websocket: Type.Boolean({ default: false }),
  },
  Strict,
);

// The `aggregate` target of a route: backends fanned out in a dependency graph and composed into one answer.
// A header field name (RFC 9110 token).
const HEADER_NAME = '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$';

export const AGGREGATE_CONFLICTS = ['error', 'first', 'last', 'deep-merge'] as const;

export const AggregateBackend = Type.Object(
  {
    service: Type.String({ minLength: 1 }),
    /** Upstream path (and optional query), a template: `/users/{params.userId}`, `/payments/{user.accountId}`. */
    path: Type.String({ pattern: '^/', errorMessage: 'must start with /' }),
    /** Default GET, whatever the client's method. */
    method: Type.Union(HTTP_METHODS.map((m) => Type.Literal(m)), { default: 'GET', errorMessage: `must be one of ${HTTP_METHODS.join(', ')}` }),
    /** Query parameters added to the path's own, values are templates. */
    query: Type.Record(Type.String({ minLength: 1 }), Type.String(), { default: {} }),
    /** Headers set on the backend request, values are templates. */
    headers: Type.Record(Type.String({ pattern: HEADER_NAME, errorMessage: 'must be a header name' }), Type.String(), { default: {} }),
    /** Client request headers copied to this backend (an allow-list); x-request-id and trace headers always go. */
    forwardHeaders: Type.Array(Type.String({ pattern: HEADER_NAME, errorMessage: 'must be a header name' }), { default: [] }),
    /** A JSON body for the backend; strings in it are templates (`"{user}"` alone places the whole value). */
    body: Type.Optional(Type.Unknown()),
    /** Send the client's request body to this backend as it came. */
    forwardBody: Type.Boolean({ default: false }),
    /** Key of this part in the answer; "." merges an object into the root. */
    as: Type.String({ pattern: '^(\\.|[A-Za-z_][A-Za-z0-9_-]*)$', errorMessage: 'must be "." or a name of letters, digits, _ or - starting with a letter or _' }),
    /** A failure of this backend leaves the part null (or `fallback`) instead of failing the request. */
    optional: Type.Boolean({ default: false }),
    /** This backend's own limit, inside the route's `timeout`; default: the service's timeout. */
    timeout: Type.Optional(Duration()),
    /** Picks a nested value of the response before select/omit/rename (dot path). */
    target: Type.Optional(Type.String({ minLength: 1 })),
    /** Dot paths to keep; nesting is kept (`b.c` gives `{ b: { c } }`); applies per element of arrays. */
    select: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** Dot paths to remove. */
    omit: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** FROM: TO dot paths. */
    rename: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }))),
    /** The value of an optional backend that failed (default null). */
    fallback: Type.Optional(Type.Unknown()),
  },
  Strict,
);
export type AggregateBackendConfig = StaticDecode<typeof AggregateBackend>;

export const Aggregate = Type.Object(
  {
    /** The whole fan-out's deadline. */
    timeout: Duration({ default: '10s' }),
    /** What happens when parts merged into the root (`as: "."`) share a key. */
    conflict: Type.Union(
      AGGREGATE_CONFLICTS.map((c) => Type.Literal(c)),
      { default: 'error', errorMessage: `must be one of ${AGGREGATE_CONFLICTS.join(', ')}` },
    ),
    backends: Type.Array(AggregateBackend, { minItems: 1 }),
    /** The answer's body built from the parts: strings are templates, `"{user}"` alone places the whole part. */
    template: Type.Optional(Type.Unknown()),
  },
  Strict,
);
export type AggregateConfig = StaticDecode<typeof Aggregate>;
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
    aggregate: Type.Optional(Aggregate),
    grpc: Type.Optional(GrpcTarget),
    plugins: PluginList,
    /** What to answer when the service is unavailable or its circuit open. */
    fallback: Type.Optional(Fallback),
  },
  Strict,
);
export type RouteConfig = StaticDecode<typeof Route>;
export type MatchConfig = StaticDecode<typeof Match>;
/** The match of a route the HTTP router serves: it always has a path. */
export type HttpMatch = MatchConfig & { readonly path: string };
export type GrpcTargetConfig = StaticDecode<typeof GrpcTarget>;

/** A layer-4 route: raw TCP (optionally TLS-terminated here) from `listen` to a tcp service (docs/streams.md). */
export const Stream = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', errorMessage: 'must be letters, digits, _ . : or -, starting with a letter or digit' }),
    /** The port the gateway listens on for this stream (0 = any free port). */
    listen: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Address to bind; default: server.host of gatehouse.yaml. */
    host: Type.Optional(Type.String({ minLength: 1 })),
    /** A service with protocol: tcp. */
    service: Type.String({ minLength: 1 }),
    /** TLS termination at the gateway; files relative to this route file. */
    tls: Type.Optional(TlsFiles),
    /** A connection with no bytes either way for this long is closed on both sides. */
    idleTimeout: Duration({ default: '5m' }),
    /** Time allowed to connect to one target; default: the service's connectTimeout. */
    connectTimeout: Type.Optional(Duration()),
  },
  Strict,
);
export type StreamConfig = StaticDecode<typeof Stream>;

export const RouteFile = Type.Object(
  {
    services: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }), Service, { default: {} }),
    routes: Type.Array(Route, { default: [] }),
    streams: Type.Array(Stream, { default: [] }),
  },
  Strict,
);
export type RouteFile = StaticDecode<typeof RouteFile>;

export type AnySchema = TSchema;
