/**
 * Counters and histograms for the series every request moves (requests, durations, upstream
 * tries). prom-client hashes and validates the label object on each inc/observe; here a series
 * is a plain object found once per label set (and kept by callers that can), so counting is an
 * addition. The registry reads them as it reads its own metrics (same text, same JSON, so
 * node:cluster aggregation works unchanged).
 */
import client from 'prom-client';

type LabelValue = string | number;
type Labels = Readonly<Record<string, LabelValue>>;

interface MetricValue {
  value: number;
  labels: Record<string, LabelValue>;
  metricName?: string;
}

/** What prom-client's registry reads of a metric. */
interface RegistryView {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }>;
  reset(): void;
}

const SEP = '\u0001';

abstract class Tally<S> implements RegistryView {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  protected readonly all = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
  ) {}

  /** Registers this metric in the process registry (once per name, like metrics.ts `once`). */
  register(registry: client.Registry): this {
    registry.registerMetric(this as unknown as client.Metric);
    return this;
  }

  protected abstract make(labels: Record<string, LabelValue>): S;

  /** The series of these label values, in labelNames order; made on first use. */
  series(...values: LabelValue[]): S {
    const key = values.length === 1 ? String(values[0]) : values.join(SEP);
    let s = this.all.get(key);
    if (s === undefined) {
      const labels: Record<string, LabelValue> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i]!;
      s = this.make(labels);
      this.all.set(key, s);
    }
    return s;
  }

  protected seriesOf(labels: Labels): S {
    return this.series(...this.labelNames.map((n) => labels[n]!));
  }

  abstract get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }>;

  /** Zeroes every series (kept: callers may hold them). */
  reset(): void {
    for (const s of this.all.values()) this.zero(s);
  }

  protected abstract zero(series: S): void;
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Record<string, LabelValue>) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class TallyCounter extends Tally<CounterSeries> {
  readonly type = 'counter' as const;

  protected make(labels: Record<string, LabelValue>): CounterSeries {
    return new CounterSeries(labels);
  }

  inc(labels: Labels, by = 1): void {
    this.seriesOf(labels).value += by;
  }

  protected zero(series: CounterSeries): void {
    series.value = 0;
  }

  async get() {
    const values: MetricValue[] = [];
    for (const s of this.all.values()) values.push({ value: s.value, labels: { ...s.labels } });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HistogramSeries {
  sum = 0;
  count = 0;
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly counts: Float64Array;
  constructor(
    readonly labels: Record<string, LabelValue>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class TallyHistogram extends Tally<HistogramSeries> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected make(labels: Record<string, LabelValue>): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  observe(labels: Labels, value: number): void {
    this.seriesOf(labels).observe(value);
  }

  protected zero(series: HistogramSeries): void {
    series.sum = 0;
    series.count = 0;
    series.counts.fill(0);
  }

  async get() {
    const values: MetricValue[] = [];
    for (const s of this.all.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ value: cumulative, metricName: `${this.name}_bucket`, labels: { le, ...s.labels } });
      }
      values.push({ value: s.sum, metricName: `${this.name}_sum`, labels: { ...s.labels } });
      values.push({ value: s.count, metricName: `${this.name}_count`, labels: { ...s.labels } });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
