/** A tiny JSON microservice used by the demo, docker-compose and the tests. */
import http from 'node:http';

export type Handler = (req: http.IncomingMessage, url: URL) => { status?: number; body: unknown } | undefined;

export function jsonService(name: string, routes: Handler): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://service');
    if (url.pathname === '/healthz') return void res.end('ok');
    const out = routes(req, url) ?? { status: 404, body: { error: `${name}: nothing at ${url.pathname}` } };
    res.writeHead(out.status ?? 200, { 'content-type': 'application/json', 'x-service': name });
    res.end(JSON.stringify(out.body));
  });
}

export function listen(server: http.Server, port: number, host = process.env.HOST ?? '127.0.0.1'): Promise<void> {
  return new Promise((resolve) => server.listen(port, host, resolve));
}

/** `node --import tsx examples/services/users.ts` runs one service alone (docker-compose does that). */
export function runIfMain(meta: ImportMeta, server: http.Server, defaultPort: number, name: string): void {
  if (process.argv[1] && new URL(`file://${process.argv[1]}`).pathname === new URL(meta.url).pathname) {
    const port = Number(process.env.PORT ?? defaultPort);
    void listen(server, port, process.env.HOST ?? '0.0.0.0').then(() => console.log(JSON.stringify({ msg: `${name} listening`, port })));
  }
}
