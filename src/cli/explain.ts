/** `gatehouse explain METHOD URL [-H 'k: v']...`: which route a request takes, and why not when none does. */
import FindMyWay from 'find-my-way';
import type { Snapshot, RouteEntry } from '../config/snapshot.js';
import { HOOK_NAMES } from '../plugins/define.js';
import { buildChain } from '../plugins/chain.js';
import { hostOf } from '../routing/constraints.js';
import { normalizeTarget } from '../routing/normalize-path.js';
import { ROUTER_OPTIONS } from '../routing/route-table.js';
import { buildPathBuilder } from '../routing/upstream-path.js';
import { silentLogger } from './silent-logger.js';
import type { AggregatePlan } from '../targets/aggregate/plan.js';

/** The target lines of an aggregate route: its services, then each backend with what it waits for. */
function explainAggregate(plan: AggregatePlan, snapshot: Snapshot): string[] {
  const lines = [`target   aggregate -> ${plan.services.join(', ')}  timeout ${plan.timeout}ms  conflict ${plan.conflict}`];
  for (const b of plan.backends) {
    const svc = snapshot.services.get(b.config.service);
    const waits = b.deps.length ? `  after ${b.deps.map((d) => plan.backends[d]!.label).join(', ')}` : '';
    const timeout = b.config.timeout ?? svc?.timeout;
    lines.push(`  ${b.config.as.padEnd(12)} ${b.config.method} ${b.config.service} ${b.config.path}${b.config.optional ? '  optional' : ''}  timeout ${timeout}ms${waits}`);
  }
  return lines;
}

export interface ExplainRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

function pathMatches(route: RouteEntry, path: string): boolean {
  const r = FindMyWay(ROUTER_OPTIONS);
  r.on('GET', route.match.path, () => undefined);
  return r.find('GET', path) !== null;
}

function whyNot(route: RouteEntry, req: ExplainRequest, host: string | undefined): string[] {
  const reasons: string[] = [];
  if (!route.methods.includes(req.method) && !(req.method === 'HEAD' && route.methods.includes('GET'))) {
    reasons.push(`method ${req.method} is not one of ${route.methods.join(', ')}`);
  }
  if (route.match.host) {
    const want = route.match.host.toLowerCase();
    const ok = host !== undefined && (want.startsWith('*.') ? host.endsWith(want.slice(1)) && host.length > want.length - 1 : host === want);
    if (!ok) reasons.push(`host ${host ?? '(none)'} does not match ${route.match.host}`);
  }
  for (const [h, v] of Object.entries(route.match.headers ?? {})) {
    const got = req.headers[h.toLowerCase()];
    if (got !== v) reasons.push(`header ${h}: wants "${v}", got ${got === undefined ? 'none' : `"${got}"`}`);
  }
  return reasons;
}

/** Returns the lines to print and whether a route matched. */
export async function explain(snapshot: Snapshot, req: ExplainRequest): Promise<{ matched: boolean; lines: string[] }> {
  let target = req.url;
  const headers = { ...req.headers };
  const abs = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)(.*)$/i.exec(target);
  if (abs) {
    headers.host ??= abs[2]!;
    target = abs[3] || '/';
  }
  const n = normalizeTarget(target);
  if (!n.ok) return { matched: false, lines: [`${req.method} ${req.url}: refused with 400 BAD_REQUEST (${n.reason})`] };
  const table = snapshot.table;
  const found = table.find(req.method, n.url, headers);
  if (!found) {
    const candidates = snapshot.routes.filter((r) => pathMatches(r, n.path));
    const lines = [`no route matches ${req.method} ${n.url}${headers.host ? ` (host ${headers.host})` : ''}`];
    if (candidates.length === 0) lines.push(`  no route's path matches ${n.path}; the gateway answers 404 ROUTE_NOT_FOUND`);
    for (const r of candidates) {
      lines.push(`  route ${r.id} (${r.where.file}:${r.where.line}:${r.where.col}) has a matching path ${r.match.path}, but:`);
      for (const why of whyNot(r, { ...req, headers }, hostOf(headers.host))) lines.push(`    - ${why}`);
    }
    const allowed = table.allowed(n.url, headers);
    if (allowed.length > 0) lines.push(`  the gateway answers 405 METHOD_NOT_ALLOWED with Allow: ${allowed.join(', ')}`);
    else if (candidates.length > 0) lines.push('  the gateway answers 404 ROUTE_NOT_FOUND');
    return { matched: false, lines };
  }
  const route = found.route;
  const lines = [`route    ${route.id}  (${route.where.file}:${route.where.line}:${route.where.col})`];
  lines.push(`match    ${route.methods.join(',')} ${route.match.path}${route.match.host ? ` host ${route.match.host}` : ''}`);
  const params = Object.entries(found.params);
  if (params.length > 0) lines.push(`params   ${params.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const uses = [...snapshot.globalPlugins, ...route.routePlugins];
  const info = { id: route.id, path: route.match.path, methods: route.methods, service: route.upstream?.service ?? route.grpcCall?.service };
  // Which hooks each plugin sets up, so the chain can be shown in the order it runs.
  const perPlugin: { name: string; global: boolean; hooks: string[] }[] = [];
  for (const [i, use] of uses.entries()) {
    const { hooks } = await buildChain([use], info, silentLogger, [...snapshot.services.keys()]);
    const names = HOOK_NAMES.filter((h) => (hooks[h]?.length ?? 0) > 0);
    perPlugin.push({ name: use.name, global: i < snapshot.globalPlugins.length, hooks: names });
  }
  lines.push('plugins  (in run order)');
  let step = 0;
  for (const stage of HOOK_NAMES) {
    for (const p of perPlugin.filter((x) => x.hooks.includes(stage))) {
      lines.push(`  ${++step}. ${stage.padEnd(13)} ${p.name}${p.global ? ' (global)' : ''}`);
    }
  }
  if (step === 0) lines.push('  (none)');
  const skipped = perPlugin.filter((p) => p.hooks.length === 0);
  if (skipped.length > 0) lines.push(`  configured but inactive for this route: ${skipped.map((p) => p.name).join(', ')}`);
  if (route.aggregatePlan) {
    lines.push(...explainAggregate(route.aggregatePlan, snapshot));
    return { matched: true, lines };
  }
  if (route.grpcCall) {
    const call = route.grpcCall;
    const svc = snapshot.services.get(call.service)!;
    lines.push(`target   grpc -> service ${svc.name} (${svc.loadBalancer}: ${svc.targets.map((t) => t.url).join(', ')})`);
    lines.push(`method   ${call.name}${call.serverStreaming ? ' (server stream: NDJSON, or SSE for Accept: text/event-stream)' : ''}  timeout ${call.timeout ?? svc.timeout}ms`);
    return { matched: true, lines };
  }
  const up = route.upstream!;
  const svc = snapshot.services.get(up.service)!;
  const q = n.url.indexOf('?');
  const upstreamPath = buildPathBuilder(route.match.path, up)(n.path, q === -1 ? '' : n.url.slice(q + 1), found.params);
  lines.push(`target   proxy -> service ${svc.name} (${svc.loadBalancer}: ${svc.targets.map((t) => (t.weight === 1 ? t.url : `${t.url} weight ${t.weight}`)).join(', ')})`);
  lines.push(`upstream ${req.method} ${upstreamPath}  timeout ${up.timeout ?? svc.timeout}ms`);
  if (up.websocket) lines.push('websocket upgrades proxied (GET with Upgrade: websocket; the timeout bounds the handshake only)');
  return { matched: true, lines };
}
