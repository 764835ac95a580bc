/**
 * The WebSocket echo rows: messages/s through a Gatehouse route with `upstream.websocket`
 * against the same echo server connected directly. The echo server and the load are their own
 * processes on the load core (bench/lib/ws-echo-server.ts, bench/lib/ws-load.ts), the gateway
 * on the proxy core; rows alternate over the rounds like the HTTP rows.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startGateway, ROOT } from './gateway-process.js';
import { CORE, start, stop, waitForLine } from './procs.js';
import { ratio, round, summarize, table, type Summary } from './stats.js';

export const WS_ROWS = { direct: 'websocket direct', gateway: 'gatehouse websocket' } as const;

export interface WebSocketRow {
  name: string;
  /** Echoes received over all rounds. */
  messages: number;
  msgPerSec: Summary;
  vsDirect: number | null;
}

export interface WebSocketResult {
  connections: number;
  messageBytes: number;
  seconds: number;
  rounds: number;
  rows: WebSocketRow[];
}

export interface WebSocketOptions {
  seconds: number;
  rounds: number;
  connections: number;
  log: (line: string) => void;
}

const MESSAGE_BYTES = 64;
const TSX = ['--import', 'tsx'];

const jsonLine = <T>(line: string): T | undefined => {
  try {
    return line.trim().startsWith('{') ? (JSON.parse(line) as T) : undefined;
  } catch {
    return undefined;
  }
};

async function runLoad(url: string, connections: number, seconds: number): Promise<{ messages: number; seconds: number }> {
  const child = start(process.execPath, [...TSX, path.join(ROOT, 'bench/lib/ws-load.ts'), url, String(connections), String(seconds), String(MESSAGE_BYTES)], {
    core: CORE.load,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return waitForLine(child, jsonLine<{ messages: number; seconds: number }>, 'ws-load', seconds * 1000 + 20_000);
}

export async function measureWebSocket(dir: string, opts: WebSocketOptions): Promise<WebSocketResult> {
  const echo = start(process.execPath, [...TSX, path.join(ROOT, 'bench/lib/ws-echo-server.ts')], { core: CORE.load, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const { port } = await waitForLine(echo, jsonLine<{ port: number }>, 'ws-echo-server');
  const d = path.join(dir, 'websocket');
  await mkdir(path.join(d, 'routes.d'), { recursive: true });
  const cfg = path.join(d, 'gatehouse.yaml');
  await writeFile(cfg, 'server: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\nroutes: ./routes.d\nlogging: { level: info, accessLog: false }\n');
  await writeFile(
    path.join(d, 'routes.d/ws.yaml'),
    `services:\n  echo: { discovery: { static: ["http://127.0.0.1:${port}"] } }\n` +
      `routes:\n  - id: ws\n    match: { path: /ws }\n    upstream: { service: echo, websocket: true }\n`,
  );
  const gw = await startGateway(cfg);
  const urls: Record<string, string> = { [WS_ROWS.direct]: `ws://127.0.0.1:${port}/ws`, [WS_ROWS.gateway]: `ws://127.0.0.1:${gw.port}/ws` };
  const rates: Record<string, number[]> = { [WS_ROWS.direct]: [], [WS_ROWS.gateway]: [] };
  const totals: Record<string, number> = { [WS_ROWS.direct]: 0, [WS_ROWS.gateway]: 0 };
  try {
    for (let r = 1; r <= opts.rounds; r++) {
      for (const name of Object.values(WS_ROWS)) {
        const res = await runLoad(urls[name]!, opts.connections, opts.seconds);
        rates[name]!.push(res.messages / res.seconds);
        totals[name]! += res.messages;
        opts.log(`round ${r}/${opts.rounds} ${name}: ${Math.round(res.messages / res.seconds)} msg/s`);
      }
    }
  } finally {
    await stop(gw.child);
    await stop(echo);
  }
  const direct = summarize(rates[WS_ROWS.direct]!).median;
  return {
    connections: opts.connections,
    messageBytes: MESSAGE_BYTES,
    seconds: opts.seconds,
    rounds: opts.rounds,
    rows: Object.values(WS_ROWS).map((name) => {
      const s = summarize(rates[name]!);
      const msgPerSec = { median: round(s.median, 0), min: round(s.min, 0), max: round(s.max, 0) };
      return { name, messages: totals[name]!, msgPerSec, vsDirect: ratio(s.median, direct) };
    }),
  };
}

export function websocketTable(result: WebSocketResult): string {
  return table(
    ['row', 'msg/s', 'min–max', '×direct'],
    result.rows.map((r) => [r.name, String(r.msgPerSec.median), `${r.msgPerSec.min}–${r.msgPerSec.max}`, r.vsDirect === null ? '-' : r.vsDirect.toFixed(2)]),
  );
}
