/** Raw HTTP/1.1 over a socket, for requests an HTTP client library would refuse to send. */
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

export function parseRaw(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
  }
  return { status: Number(statusLine?.split(' ')[1] ?? 0), headers, body: end === -1 ? '' : raw.slice(end + 4), raw };
}

/** Sends `text` and collects everything until the server closes or `idleMs` passes without data. */
export function rawRequest(port: number, text: string | Buffer, idleMs = 800): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRaw(data));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, idleMs);
    };
    socket.on('connect', () => {
      socket.write(text);
      arm();
    });
    socket.on('data', (d) => {
      data += d.toString('latin1');
      arm();
    });
    socket.on('end', finish);
    socket.on('error', (e) => (data ? finish() : reject(e)));
  });
}
