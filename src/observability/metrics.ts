/**
 * Prometheus metrics (prom-client's process registry, so node:cluster workers aggregate in
 * the primary). Labels are bounded: route ids, service names, target URLs from config,
 * numeric statuses and a fixed method list — never raw paths.
 */
import client from 'prom-client';
import { TallyCounter, TallyHistogram } from './tally.js';

export const registry = client.register;

let defaults = false;
/** Node process metrics (CPU, memory, event-loop lag, GC), once per process. */
export function collectProcessMetrics(): void {
  if (defaults) return;
  defaults = true;
  client.collectDefaultMetrics({ register: registry });
}

/**
 * One metric per name in the process registry, even when two copies of this module are
 * loaded (a custom plugin importing the package build next to the gateway's own code).
 */
function once<M>(name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

const METHOD_LIST = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const KNOWN_METHODS = new Set(METHOD_LIST);
export const methodLabel = (m: string) => (KNOWN_METHODS.has(m) ? m : 'OTHER');
/** 0..6 for the known methods, 7 for OTHER (a small number to key per-route caches by). */
export const methodIndex = (m: string): number => {
  const i = METHOD_LIST.indexOf(m);
  return i === -1 ? 7 : i;
};

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// The series every request moves are tallies (observability/tally.ts): counted without prom-client's per-call label hashing.
export const requestsTotal = once('gatehouse_requests_total', () =>
  new TallyCounter('gatehouse_requests_total', 'Requests answered, by route id, method and status code', ['route', 'method', 'status']).register(registry),
);
export const requestDuration = once('gatehouse_request_duration_seconds', () =>
  new TallyHistogram('gatehouse_request_duration_seconds', 'Time from request to response, by route id', ['route'], SECONDS).register(registry),
);
export const upstreamRequests = once('gatehouse_upstream_requests_total', () =>
  new TallyCounter(
    'gatehouse_upstream_requests_total',
    'Requests sent to upstream targets, by outcome (ok, http_5xx, timeout, connect_error, reset, bad_response, aborted)',
    ['service', 'target', 'outcome'],
  ).register(registry),
);
export const upstreamDuration = once('gatehouse_upstream_duration_seconds', () =>
  new TallyHistogram('gatehouse_upstream_duration_seconds', 'Time until an upstream target answered with headers (or failed)', ['service', 'target'], SECONDS).register(registry),
);
export const rateLimited = once('gatehouse_rate_limited_total', () => new client.Counter({
  name: 'gatehouse_rate_limited_total',
  help: 'Requests refused with 429 by rate limiting, by route id',
  labelNames: ['route'] as const,
}));
export const websocketConnections = once('gatehouse_websocket_connections', () => new client.Gauge({
  name: 'gatehouse_websocket_connections',
  help: 'WebSocket connections open through the gateway, by route id',
  labelNames: ['route'] as const,
}));
export const redisErrors = once('gatehouse_redis_errors_total', () => new client.Counter({
  name: 'gatehouse_redis_errors_total',
  help: 'Redis commands that failed or timed out, by what used Redis',
  labelNames: ['component'] as const,
}));
export const reloads = once('gatehouse_reloads_total', () => new client.Counter({
  name: 'gatehouse_reloads_total',
  help: 'Config reloads, by result (ok, error)',
  labelNames: ['result'] as const,
}));
export const lastReloadSuccess = once('gatehouse_last_reload_success', () => new client.Gauge({
  name: 'gatehouse_last_reload_success',
  help: '1 when the last reload was applied, 0 when it was refused',
}));
export const configGeneration = once('gatehouse_config_generation', () => new client.Gauge({
  name: 'gatehouse_config_generation',
  help: 'Generation of the running config (1 at start, +1 per applied reload)',
}));

export interface TargetState {
  service: string;
  target: string;
  healthy: boolean;
  /** closed | open | half-open */
  breaker: string;
  /** Every target of the service is out, so all are used anyway (the same for each target of a service). */
  panic: boolean;
}

const stateSources = new Set<() => Iterable<TargetState>>();
/** Registers where breaker and health gauges read from; returns an unregister function. */
export function addTargetStateSource(source: () => Iterable<TargetState>): () => void {
  stateSources.add(source);
  return () => stateSources.delete(source);
}

const BREAKER_VALUE: Record<string, number> = { closed: 0, open: 1, 'half-open': 2 };

export const circuitState = once('gatehouse_circuit_state', () => new client.Gauge({
  name: 'gatehouse_circuit_state',
  help: 'Circuit breaker state per target: 0 closed, 1 open, 2 half-open',
  labelNames: ['service', 'target'] as const,
  collect() {
    this.reset();
    for (const src of stateSources) for (const t of src()) this.set({ service: t.service, target: t.target }, BREAKER_VALUE[t.breaker] ?? 0);
  },
}));
export const targetHealthy = once('gatehouse_target_healthy', () => new client.Gauge({
  name: 'gatehouse_target_healthy',
  help: '1 when the target takes traffic, 0 when it is unhealthy or ejected',
  labelNames: ['service', 'target'] as const,
  collect() {
    this.reset();
    for (const src of stateSources) for (const t of src()) this.set({ service: t.service, target: t.target }, t.healthy ? 1 : 0);
  },
}));

export const servicePanic = once('gatehouse_service_panic', () => new client.Gauge({
  name: 'gatehouse_service_panic',
  help: '1 while every target of the service is unhealthy or ejected and all of them are used anyway (panic mode)',
  labelNames: ['service'] as const,
  collect() {
    this.reset();
    for (const src of stateSources) for (const t of src()) this.set({ service: t.service }, t.panic ? 1 : 0);
  },
}));

/** The text /metrics serves: this process, or every worker when called in a cluster primary. */
export async function metricsText(aggregateWorkers: boolean): Promise<{ contentType: string; body: string }> {
  if (aggregateWorkers) {
    const agg = new client.AggregatorRegistry();
    const merged = await agg.clusterMetrics();
    return { contentType: agg.contentType, body: merged };
  }
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** In a cluster worker: answer the primary's requests for this worker's metrics (prom-client listens once an aggregator exists). */
export function answerPrimaryMetrics(): void {
  new client.AggregatorRegistry();
}

// ---- Layer-4 streams (docs/streams.md) ----

export const streamConnections = once('gatehouse_stream_connections_total', () => new client.Counter({
  name: 'gatehouse_stream_connections_total',
  help: 'Stream client connections, counted when they end, by stream id and outcome (closed, idle_timeout, error, unavailable, tls_error, shutdown)',
  labelNames: ['stream', 'outcome'] as const,
}));
export const streamActiveConnections = once('gatehouse_stream_active_connections', () => new client.Gauge({
  name: 'gatehouse_stream_active_connections',
  help: 'Stream client connections open now, by stream id',
  labelNames: ['stream'] as const,
}));
export const streamBytes = once('gatehouse_stream_bytes_total', () => new client.Counter({
  name: 'gatehouse_stream_bytes_total',
  help: 'Bytes relayed by streams, by stream id and direction (upstream: client to target, downstream: target to client)',
  labelNames: ['stream', 'direction'] as const,
}));
export const streamConnectErrors = once('gatehouse_stream_connect_errors_total', () => new client.Counter({
  name: 'gatehouse_stream_connect_errors_total',
  help: 'Failed connects from a stream to a target (refused, unreachable, connectTimeout), by stream id, service and target',
  labelNames: ['stream', 'service', 'target'] as const,
}));
