/** node:http2 clients and servers for tests: one request on a session, and an HTTP/2 origin that records what it saw. */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** Connects and waits for the session to be up (ALPN done). */
export async function h2connect(url: string, options: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url, options);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.on('error', () => undefined);
  return session;
}

/** One stream: sends `headers` (and `body`, chunk by chunk, when given) and reads the whole answer. */
export function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | Buffer[]): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (head = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body !== undefined) {
      for (const part of Array.isArray(body) ? body : [body]) stream.write(part);
      stream.end();
    }
  });
}

export interface H2Origin {
  url: string;
  /** HTTP version and headers of each request it answered. */
  seen: { httpVersion: string; headers: http2.IncomingHttpHeaders; body: Buffer }[];
  /** HTTP/2 sessions (connections) opened to it so far. */
  sessions(): number;
  close(): Promise<void>;
}

/** An HTTP/2 origin (TLS when `tls` is given, else h2c) that answers each request with JSON saying how it came. */
export async function startH2Origin(tls?: { cert: string; key: string }): Promise<H2Origin> {
  const seen: H2Origin['seen'] = [];
  const onRequest = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ httpVersion: req.httpVersion, headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ httpVersion: req.httpVersion, path: req.url, bytes: body.length }));
    });
  };
  const server = tls ? http2.createSecureServer({ ...tls }, onRequest) : http2.createServer(onRequest);
  const sessions = new Set<http2.Http2Session>();
  let opened = 0;
  server.on('session', (s) => {
    opened++;
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    sessions: () => opened,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}
