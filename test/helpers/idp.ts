/** Identity-provider stand-ins on 127.0.0.1:0: a JWKS endpoint and an RFC 7662 introspection endpoint. */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type JwksMode = 'ok' | 'error' | 'garbage' | 'not-a-set' | 'hang';

export interface JwksServer {
  url: string;
  /** GET requests answered (any mode). */
  fetches: number;
  mode: JwksMode;
  keys: Record<string, unknown>[];
  /** Stops listening (connection refused from now on). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(keys: Record<string, unknown>[]): Promise<JwksServer> {
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    state.fetches++;
    switch (state.mode) {
      case 'ok':
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: state.keys }));
        return;
      case 'error':
        res.statusCode = 503;
        res.end('maintenance');
        return;
      case 'garbage':
        res.setHeader('content-type', 'application/json');
        res.end('{"keys": [ {"kty": "RSA", "n": "%%%');
        return;
      case 'not-a-set':
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [{ kty: 'RSA', kid: 'junk', n: 'AQAB', e: 'AQAB' }, 'text', 7] }));
        return;
      case 'hang':
        hanging.add(res);
        return;
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  const stop = () =>
    new Promise<void>((r) => {
      if (stopped) return r();
      stopped = true;
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  const state: JwksServer = { // A unique path: the gateway shares JWKS state per URI, and a later test may get a reused port.
    url: `http://127.0.0.1:${port}/${randomUUID()}/.well-known/jwks.json`, fetches: 0, mode: 'ok', keys, stop, close: stop };
  return state;
}

export interface IntrospectionCall {
  authorization?: string;
  contentType?: string;
  form: URLSearchParams;
}

export interface IntrospectionServer {
  url: string;
  calls: IntrospectionCall[];
  /** Decides the answer for a token: a JSON body, or a status code, or 'hang'. */
  answer: (token: string) => Record<string, unknown> | number | 'hang';
  close(): Promise<void>;
}

export async function startIntrospectionServer(answer: IntrospectionServer['answer']): Promise<IntrospectionServer> {
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      state.calls.push({ authorization: req.headers.authorization, contentType: req.headers['content-type'], form });
      const out = state.answer(form.get('token') ?? '');
      if (out === 'hang') {
        hanging.add(res);
        return;
      }
      if (typeof out === 'number') {
        res.statusCode = out;
        res.end('no');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const state: IntrospectionServer = {
    url: `http://127.0.0.1:${port}/oauth2/introspect`,
    calls: [],
    answer,
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return state;
}
