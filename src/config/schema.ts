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
    protocol: Type.Union([Type.Literal('http'), Type.Literal('https')], { default: 'http', errorMessage: 'must be http or https' }),
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

export const Match = Type.Object(
  {
    path: Type.String({ pattern: '^/', errorMessage: 'must start with /' }),
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

export const Route = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', errorMessage: 'must be letters, digits, _ . : or -, starting with a letter or digit' }),
    match: Match,
    upstream: Type.Optional(Upstream),
    aggregate: Type.Optional(Aggregate),
    grpc: Type.Optional(Type.Unknown()),
    plugins: PluginList,
  },
  Strict,
);
export type RouteConfig = StaticDecode<typeof Route>;

export const RouteFile = Type.Object(
  {
    services: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }), Service, { default: {} }),
    routes: Type.Array(Route, { default: [] }),
  },
  Strict,
);
export type RouteFile = StaticDecode<typeof RouteFile>;

export type AnySchema = TSchema;
