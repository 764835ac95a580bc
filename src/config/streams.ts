/** Checks of `streams:` (layer-4 routes) across every route file, and their TLS files. */
import type { ConfigIssue, Segment } from './diagnostics.js';
import type { Settings, StreamConfig } from './schema.js';
import type { ServiceEntry, StreamEntry, Where } from './snapshot.js';
import type { SourceFile } from './source.js';
import { didYouMean } from './suggest.js';

/** Reads a file named in `source` at `path`, relative to its directory; undefined after an issue. */
export type ReadRelative = (source: SourceFile, path: Segment[], file: string | undefined) => Promise<string | undefined>;

interface PlacedStream {
  entry: StreamEntry;
  source: SourceFile;
  path: Segment[];
}

const whereOf = (source: SourceFile, p: readonly Segment[]): Where => ({ file: source.display, ...source.locate(p) });
const at = (w: Where) => `${w.file}:${w.line}:${w.col}`;

/** Collects the streams of all route files, checking ids and listen ports for duplicates as it goes. */
export class StreamCollector {
  private readonly placed: PlacedStream[] = [];
  private readonly ids = new Map<string, Where>();
  private readonly ports = new Map<number, Where>();
  private readonly settings: Settings | undefined;
  private readonly issues: ConfigIssue[];
  private readonly read: ReadRelative;

  constructor(settings: Settings | undefined, issues: ConfigIssue[], read: ReadRelative) {
    this.settings = settings;
    this.issues = issues;
    this.read = read;
  }

  async add(streams: readonly StreamConfig[], source: SourceFile): Promise<void> {
    for (const [i, stream] of streams.entries()) {
      const p: Segment[] = ['streams', i];
      const priorId = this.ids.get(stream.id);
      if (priorId) {
        this.issues.push(source.issue([...p, 'id'], `stream id "${stream.id}" is used twice: here and in ${at(priorId)}`));
        continue;
      }
      this.ids.set(stream.id, whereOf(source, [...p, 'id']));
      this.checkPort(stream.listen, source, [...p, 'listen']);
      let tlsMaterial: StreamEntry['tlsMaterial'];
      if (stream.tls) {
        const cert = await this.read(source, [...p, 'tls', 'cert'], stream.tls.cert);
        const key = await this.read(source, [...p, 'tls', 'key'], stream.tls.key);
        if (cert !== undefined && key !== undefined) tlsMaterial = { cert, key };
      }
      const host = stream.host ?? this.settings?.server.host ?? '0.0.0.0';
      this.placed.push({ entry: Object.freeze({ ...stream, host, where: whereOf(source, p), ...(tlsMaterial ? { tlsMaterial } : {}) }), source, path: p });
    }
  }

  /** Port 0 (any free port) never collides; the gateway's own ports do. */
  private checkPort(port: number, source: SourceFile, p: Segment[]): void {
    if (port === 0) return;
    const prior = this.ports.get(port);
    if (prior) {
      this.issues.push(source.issue(p, `port ${port} is already the listen port of the stream at ${at(prior)}`));
      return;
    }
    this.ports.set(port, whereOf(source, p));
    const s = this.settings;
    if (!s) return;
    const own: [string, number | undefined][] = [
      ['server.port', s.server.port],
      ['admin.port', s.admin.enabled ? s.admin.port : undefined],
      ['grpcServer.port', s.grpcServer?.port],
    ];
    for (const [key, used] of own) {
      if (used === port) this.issues.push(source.issue(p, `port ${port} is the gateway's ${key}`));
    }
  }

  /** Every stream's service must exist and have protocol: tcp. Returns the entries, in file order. */
  finish(services: ReadonlyMap<string, ServiceEntry>): StreamEntry[] {
    for (const { entry, source, path: p } of this.placed) {
      const svc = services.get(entry.service);
      if (!svc) {
        this.issues.push(source.issue([...p, 'service'], `unknown service "${entry.service}"${didYouMean(entry.service, services.keys())}`));
      } else if (svc.protocol !== 'tcp') {
        this.issues.push(source.issue([...p, 'service'], `service "${entry.service}" has protocol ${svc.protocol}; streams need a service with protocol: tcp`));
      }
    }
    return this.placed.map((s) => s.entry);
  }
}

/** An HTTP route (upstream or aggregate backend) cannot use a tcp service. */
export function tcpServiceMisuse(service: ServiceEntry | undefined): string | undefined {
  if (service?.protocol !== 'tcp') return undefined;
  return `service "${service.name}" has protocol tcp; only streams: can use it (HTTP routes need http, https or grpc)`;
}
