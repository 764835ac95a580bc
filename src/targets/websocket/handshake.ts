/**
 * The upstream half of a WebSocket handshake: one upgrade request to one target, resolved
 * with the target's socket once it answers 101. Every other outcome is an UpstreamError with
 * the gateway's answer: no connection (503 UPSTREAM_UNAVAILABLE, safe to try elsewhere), no
 * 101 in time (504 UPSTREAM_TIMEOUT), any other status or a broken answer (502 BAD_GATEWAY).
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { ServiceEntry } from '../../config/snapshot.js';
import { UpstreamError } from '../../upstream/call.js';
import { classifyUpstreamError } from '../../upstream/upstream-errors.js';
import type { UpstreamTarget } from '../../upstream/target.js';

export interface Handshake {
  readonly socket: Socket;
  /** Bytes the target sent after its 101 head. */
  readonly head: Buffer;
  readonly response: http.IncomingMessage;
}

export interface HandshakeInput {
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  /** Longest wait for the 101, from the start (includes connecting). */
  readonly timeout: number;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** The target answered the upgrade with another status: 502 for the client; a 5xx counts against the target. */
export class UpgradeRefused extends UpstreamError {
  readonly status: number;
  constructor(service: string, target: string, status: number) {
    super('reset', 'BAD_GATEWAY', `service ${service} refused the WebSocket upgrade (status ${status})`, { target });
    this.status = status;
  }
}

export function upstreamHandshake(service: ServiceEntry, target: UpstreamTarget, input: HandshakeInput): Promise<Handshake> {
  const url = new URL(input.path, target.url);
  const secure = url.protocol === 'https:';
  const tls = service.tlsMaterial;
  const options: https.RequestOptions = {
    method: 'GET',
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: input.headers,
    agent: false,
    signal: input.signal,
    ...(secure && tls?.ca ? { ca: tls.ca } : {}),
    ...(secure && tls?.cert ? { cert: tls.cert } : {}),
    ...(secure && tls?.key ? { key: tls.key } : {}),
    ...(secure && tls?.servername ? { servername: tls.servername } : {}),
  };
  const name = service.name;
  return new Promise<Handshake>((resolve, reject) => {
    const req = (secure ? https : http).request(options);
    let connected = false;
    const fail = (err: UpstreamError) => {
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
      req.destroy();
      reject(err);
    };
    const connectTimer = setTimeout(
      () => fail(new UpstreamError('connect-error', 'UPSTREAM_UNAVAILABLE', `service ${name} is unreachable (connect timeout)`, { target: target.url })),
      service.connectTimeout,
    );
    const answerTimer = setTimeout(
      () => fail(new UpstreamError('timeout', 'UPSTREAM_TIMEOUT', `service ${name} did not answer the WebSocket upgrade in time`, { target: target.url })),
      input.timeout,
    );
    req.once('socket', (socket: Socket) => {
      const onConnect = () => {
        connected = true;
        clearTimeout(connectTimer);
      };
      if (socket.connecting) socket.once(secure ? 'secureConnect' : 'connect', onConnect);
      else onConnect();
    });
    req.once('upgrade', (response: http.IncomingMessage, socket: Socket, head: Buffer) => {
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
      // node:http let go of the socket: until the tunnel takes it, an error must not go unheard.
      socket.on('error', () => socket.destroy());
      resolve({ socket, head, response });
    });
    req.once('response', (response: http.IncomingMessage) => {
      response.resume();
      fail(new UpgradeRefused(name, target.url, response.statusCode ?? 0));
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      const failure = classifyUpstreamError(err, name);
      // An error before the connection was made (TLS included) means nothing reached the target.
      const kind = failure.kind === 'client-gone' ? 'client-gone' : connected ? failure.kind : 'connect-error';
      const code = kind === 'connect-error' ? 'UPSTREAM_UNAVAILABLE' : failure.code;
      const detail = kind === 'connect-error' && failure.kind !== 'connect-error' ? `service ${name} is unreachable (${err.code ?? err.message})` : failure.detail;
      fail(new UpstreamError(kind, code, detail, { target: target.url, cause: err }));
    });
    req.end();
  });
}
