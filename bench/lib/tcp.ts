/**
 * The layer-4 rows: MB/s of bytes echoed through a TCP connection, direct to a TCP echo
 * process versus through a Gatehouse `streams:` route, on 127.0.0.1. Each connection keeps
 * 64 KiB chunks in flight (writes wait for back-pressure) for the measured time; the figure
 * counts bytes that came back, so the proxy carries twice that (both directions).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { startGateway } from './gateway-process.js';
import { CORE, rssMb, start, stop, waitForLine } from './procs.js';
import { ratio, round, summarize, table, type Summary } from './stats.js';

export const TCP_ROW = { direct: 'tcp direct', stream: 'gatehouse tcp stream' } as const;

export interface TcpRowResult {
  name: string;
  rounds: number;
  /** Bytes echoed per second, in MiB/s. */
  mbPerSecond: Summary;
  rssMb: number;
  vsDirect: number | null;
}

export interface TcpOptions {
  seconds: number;
  rounds: number;
  connections: number;
  log: (line: string) => void;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Drives `connections` echo loops against `port` for `seconds`; resolves with the bytes that came back. */
function drive(port: number, connections: number, seconds: number): Promise<number> {
  let received = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
      let stopped = false;
      const pump = () => {
        while (!stopped && socket.write(CHUNK));
      };
      socket.on('connect', pump);
      socket.on('drain', pump);
      socket.on('data', (d: Buffer) => (received += d.length));
      socket.on('error', (err) => (stopped ? resolve() : reject(err)));
      socket.on('close', () => resolve());
      setTimeout(() => {
        stopped = true;
        socket.destroy();
      }, seconds * 1000).unref();
    });
  return Promise.all(Array.from({ length: connections }, one)).then(() => received);
}

async function streamPort(logFile: string): Promise<number> {
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    if (!line.includes('"stream listening"')) continue;
    return (JSON.parse(line) as { port: number }).port;
  }
  throw new Error(`no "stream listening" line in ${logFile}`);
}

/** Starts the echo process and a gateway with one stream to it, runs both rows over the rounds, stops both. */
export async function measureTcp(dir: string, options: TcpOptions): Promise<TcpRowResult[]> {
  const echo = start(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'tcp-echo-server.ts')], { core: CORE.load, stdio: ['ignore', 'pipe', 'pipe'] });
  const children = [echo];
  try {
    const { port: echoPort } = await waitForLine(echo, (l) => (l.startsWith('{') ? (JSON.parse(l) as { port: number }) : undefined), 'tcp echo server');
    echo.stdout!.resume();
    const d = path.join(dir, 'tcp');
    await mkdir(path.join(d, 'routes.d'), { recursive: true });
    const cfg = path.join(d, 'gatehouse.yaml');
    await writeFile(cfg, 'server: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\nlogging: { level: info, accessLog: false }\n');
    await writeFile(
      path.join(d, 'routes.d/tcp.yaml'),
      `services:\n  echo:\n    protocol: tcp\n    discovery: { static: ["tcp://127.0.0.1:${echoPort}"] }\nstreams:\n  - { id: bench, listen: 0, service: echo }\n`,
    );
    const gw = await startGateway(cfg);
    children.push(gw.child);
    const rows = [
      { name: TCP_ROW.direct, port: echoPort, pid: echo.pid! },
      { name: TCP_ROW.stream, port: await streamPort(gw.logFile), pid: gw.pid },
    ];
    const samples = new Map<string, number[]>(rows.map((r) => [r.name, []]));
    const connections = Math.max(1, Math.min(options.connections, 8));
    for (let round = 0; round < options.rounds; round++) {
      for (const r of round % 2 ? [...rows].reverse() : rows) {
        const bytes = await drive(r.port, connections, options.seconds);
        const mb = bytes / (1024 * 1024) / options.seconds;
        samples.get(r.name)!.push(mb);
        options.log(`${r.name}: round ${round + 1}/${options.rounds} ${mb.toFixed(1)} MB/s`);
      }
    }
    const direct = summarize(samples.get(TCP_ROW.direct)!).median;
    return rows.map((r) => {
      const mb = summarize(samples.get(r.name)!);
      return { name: r.name, rounds: options.rounds, mbPerSecond: { median: round(mb.median, 1), min: round(mb.min, 1), max: round(mb.max, 1) }, rssMb: rssMb(r.pid), vsDirect: ratio(mb.median, direct) };
    });
  } finally {
    await Promise.all(children.map((c) => stop(c)));
  }
}

export function tcpTable(rows: readonly TcpRowResult[]): string {
  const fmt = (s: Summary) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
  return table(
    ['row', 'MB/s echoed', 'RSS MB', '×direct'],
    rows.map((r) => [r.name, fmt(r.mbPerSecond), r.rssMb.toFixed(1), r.vsDirect === null ? '-' : r.vsDirect.toFixed(2)]),
  );
}
