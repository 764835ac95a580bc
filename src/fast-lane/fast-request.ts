/**
 * A request on the fast lane: what the upstream layers (CallerRequest) and the forwarded headers
 * (ForwardedRequest) read, straight from Node's request, with no Fastify request or reply made.
 * The fast lane is on only with `server.trustProxy: false`, so ip, protocol and host are the
 * connection's own, as Fastify gives them then.
 */
import type { IncomingMessage } from 'node:http';
import { notedPeer } from '../observability/access-log.js';
import type { TLSSocket } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import type { CallerRequest, RequestState } from '../request-state.js';
import type { ForwardedRequest } from '../upstream/forward-headers.js';

export interface FastRouteOptions {
  readonly config: { readonly routeId: string };
}

export class FastRequest implements CallerRequest, ForwardedRequest {
  gatehouse: RequestState | null = null;
  private childLog: FastifyBaseLogger | undefined;

  constructor(
    readonly id: string,
    readonly raw: IncomingMessage,
    /** The normalised target, as Fastify's request.url has it after rewriteUrl. */
    readonly url: string,
    readonly routeOptions: FastRouteOptions,
    private readonly logger: FastifyBaseLogger,
  ) {}

  get method(): string {
    return this.raw.method!;
  }

  get headers(): IncomingMessage['headers'] {
    return this.raw.headers;
  }

  get socket(): IncomingMessage['socket'] {
    return this.raw.socket;
  }

  get ip(): string {
    // Node takes the socket off a request whose connection has closed: the address noted on arrival.
    return (this.raw.socket as IncomingMessage['socket'] | null)?.remoteAddress ?? notedPeer(this.raw) ?? '';
  }

  get protocol(): string {
    return (this.raw.socket as TLSSocket).encrypted ? 'https' : 'http';
  }

  get host(): string {
    return this.raw.headers.host ?? '';
  }

  /** The request's logger (with its reqId), made on first use: most requests log nothing. */
  get log(): FastifyBaseLogger {
    return (this.childLog ??= this.logger.child({ reqId: this.id }));
  }
}
