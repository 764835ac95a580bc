/**
 * Active health checks: every `interval`, an HTTP GET of `path` to each target through its own
 * pool (tcp services: a TCP connect instead, upstream/tcp-probe.ts). `unhealthy` consecutive failures (wrong status, connect error, no answer within
 * `timeout`) mark a healthy target down; `healthy` consecutive successes bring it back.
 * The first round runs as soon as the checker starts.
 */
import type { UpstreamTarget } from './target.js';

export interface ActiveHealthConfig {
  readonly path: string;
  /** Milliseconds between rounds. */
  readonly interval: number;
  /** Milliseconds one probe may take. */
  readonly timeout: number;
  readonly healthy: number;
  readonly unhealthy: number;
  /** Statuses that pass; absent: any 2xx or 3xx. */
  readonly expectStatus?: readonly number[];
}

export type HealthChange = (target: UpstreamTarget, healthy: boolean, reason: string) => void;

export interface ProbeResult {
  ok: boolean;
  reason: string;
}

/** One probe of one target; `signal` aborts it when the check's timeout passes or the check stops. */
export type Probe = (target: UpstreamTarget, signal: AbortSignal) => Promise<ProbeResult>;

interface ProbeState {
  passes: number;
  fails: number;
  pending: boolean;
}

export class ActiveHealthCheck {
  private readonly config: ActiveHealthConfig;
  private readonly targets: () => readonly UpstreamTarget[];
  private readonly onChange: HealthChange;
  private readonly state = new WeakMap<UpstreamTarget, ProbeState>();
  private readonly running = new Set<AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly send: Probe;

  /** `probe` defaults to the HTTP GET of `config.path`. */
  constructor(config: ActiveHealthConfig, targets: () => readonly UpstreamTarget[], onChange: HealthChange, probe?: Probe) {
    this.config = config;
    this.targets = targets;
    this.onChange = onChange;
    this.send = probe ?? ((target, signal) => this.httpProbe(target, signal));
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.round(), this.config.interval);
    this.timer.unref();
    this.round();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const c of this.running) c.abort();
    this.running.clear();
  }

  /** Probes every current target that has no probe outstanding. */
  round(): void {
    for (const t of this.targets()) void this.probe(t);
  }

  private passes(status: number): boolean {
    const expect = this.config.expectStatus;
    return expect ? expect.includes(status) : status >= 200 && status < 400;
  }

  private async probe(target: UpstreamTarget): Promise<void> {
    let s = this.state.get(target);
    if (!s) this.state.set(target, (s = { passes: 0, fails: 0, pending: false }));
    if (s.pending) return;
    s.pending = true;
    const aborter = new AbortController();
    this.running.add(aborter);
    const timer = setTimeout(() => aborter.abort(), this.config.timeout);
    let result: ProbeResult;
    try {
      result = await this.send(target, aborter.signal);
    } finally {
      clearTimeout(timer);
      this.running.delete(aborter);
      s.pending = false;
    }
    if (this.stopped) return;
    this.record(target, s, result.ok, result.reason);
  }

  private async httpProbe(target: UpstreamTarget, signal: AbortSignal): Promise<ProbeResult> {
    try {
      const res = await target.pool.request({
        method: 'GET',
        path: this.config.path,
        headers: { 'user-agent': 'gatehouse-health-check' },
        signal,
        headersTimeout: this.config.timeout,
        bodyTimeout: this.config.timeout,
      });
      await res.body.dump();
      return { ok: this.passes(res.statusCode), reason: `GET ${this.config.path} answered ${res.statusCode}` };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const reason = signal.aborted ? `GET ${this.config.path} timed out after ${this.config.timeout}ms` : `GET ${this.config.path} failed (${code ?? (err as Error).message})`;
      return { ok: false, reason };
    }
  }

  private record(target: UpstreamTarget, s: ProbeState, ok: boolean, reason: string): void {
    if (ok) {
      s.passes++;
      s.fails = 0;
      if (!target.healthy && s.passes >= this.config.healthy) {
        target.healthy = true;
        this.onChange(target, true, reason);
      }
    } else {
      s.fails++;
      s.passes = 0;
      if (target.healthy && s.fails >= this.config.unhealthy) {
        target.healthy = false;
        this.onChange(target, false, reason);
      }
    }
  }
}
