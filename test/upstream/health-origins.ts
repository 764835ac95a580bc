/** Origins whose health endpoint and answers a test can switch at will. */
import type http from 'node:http';
import { startOrigin, type Origin } from '../helpers/upstream.js';

export interface SwitchableOrigin extends Origin {
  /** What GET /healthz answers: a status, or 'hang' to never answer. */
  health: number | 'hang';
  /** What every other request answers. */
  status: number;
  /** Requests other than health probes. */
  served(): number;
  probes(path?: string): number;
}

export async function switchableOrigin(): Promise<SwitchableOrigin> {
  const hung = new Set<http.ServerResponse>();
  const state = { health: 200 as number | 'hang', status: 200 };
  const origin = await startOrigin((req, res) => {
    if (req.url === '/healthz' || req.url === '/ready') {
      if (state.health === 'hang') {
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      }
      res.statusCode = state.health;
      return res.end();
    }
    res.statusCode = state.status;
    res.end(String(state.status));
  });
  return {
    url: origin.url,
    port: origin.port,
    seen: origin.seen,
    get health() {
      return state.health;
    },
    set health(v: number | 'hang') {
      state.health = v;
    },
    get status() {
      return state.status;
    },
    set status(v: number) {
      state.status = v;
    },
    served: () => origin.seen.filter((s) => s.url !== '/healthz' && s.url !== '/ready').length,
    probes: (path = '/healthz') => origin.seen.filter((s) => s.url === path).length,
    close: async () => {
      for (const r of hung) r.destroy();
      await origin.close();
    },
  };
}
