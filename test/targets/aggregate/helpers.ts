/** Real origins, one per service, and a gateway whose route file lists them plus the given routes. */
import type http from 'node:http';
import { request } from 'undici';
import { startGateway, type RunningGateway } from '../../helpers/gateway.js';
import { startOrigin, type Origin, type OriginHandler } from '../../helpers/upstream.js';

export type T = { after: (fn: () => Promise<void> | void) => void };

export function json(res: http.ServerResponse, value: unknown, status = 200): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
}

/** Starts one origin per handler, named as the service, and a gateway serving `routes` (YAML list items). */
export async function aggregateSetup(
  t: T,
  handlers: Record<string, OriginHandler>,
  routes: string,
  extra: { services?: Record<string, string>; serviceYaml?: string } = {},
): Promise<{ gw: RunningGateway; origins: Record<string, Origin> }> {
  const origins: Record<string, Origin> = {};
  for (const [name, h] of Object.entries(handlers)) {
    origins[name] = await startOrigin(h);
    t.after(() => origins[name]!.close());
  }
  const urls: Record<string, string> = { ...Object.fromEntries(Object.entries(origins).map(([k, o]) => [k, o.url])), ...extra.services };
  const services = Object.entries(urls)
    .map(([name, url]) => `  ${name}:\n    discovery: { static: [${JSON.stringify(url)}] }\n${extra.serviceYaml ?? ''}`)
    .join('');
  const gw = await startGateway({ 'routes.d/a.yaml': `services:\n${services}routes:\n${routes}` });
  t.after(() => gw.close());
  return { gw, origins };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Record<string, unknown> }> {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Resolves when `n` parties have arrived, or after `ms` with false (so a wrong build fails instead of hanging). */
export function barrier(n: number, ms = 3000): () => Promise<boolean> {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((r) => (open = r));
  return async () => {
    if (++arrived === n) open();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    const result = await Promise.race([all.then(() => true), late]);
    clearTimeout(timer);
    return result;
  };
}
