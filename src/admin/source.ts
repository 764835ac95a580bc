/** What the admin API reads from: a single gateway, or the primary of a worker cluster. */
import type { Snapshot } from '../config/snapshot.js';
import type { ReloadResult } from '../server.js';

export interface TargetReport {
  url: string;
  weight: number;
  healthy: boolean;
  ejected: boolean;
  breaker: string;
  inflight: number;
  latencyEwmaMs: number | null;
  [more: string]: unknown;
}

export interface ServiceReport {
  name: string;
  protocol: string;
  loadBalancer: string;
  targets: TargetReport[];
  [more: string]: unknown;
}

export interface AdminSource {
  snapshot(): Snapshot;
  generation(): number;
  /** Live service state (in a cluster: one list per worker). */
  services(): Promise<ServiceReport[] | { worker: number; services: ServiceReport[] }[]>;
  reload(): Promise<ReloadResult>;
  /** False while starting or draining: /readyz answers 503. */
  ready(): boolean;
  /** Prometheus text (in a cluster: every worker's, aggregated). */
  metrics(): Promise<{ contentType: string; body: string }>;
}
