/** Request body limits: 413 from Content-Length before anything is sent upstream, or mid-stream for chunked bodies. */
import { Transform, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, sendProblem } from './errors.js';

class LimitedBody extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(new GatewayError('PAYLOAD_TOO_LARGE', `request body is over the ${this.limit}-byte limit`, { connection: 'close' }));
    else done(null, chunk);
  }
}

type Done = (err?: Error | null) => void;
type ParsingDone = (err: Error | null, payload?: Readable) => void;

/** Answers 413 (and returns true) when the declared Content-Length is over the limit. */
function refuseDeclared(limit: number, request: FastifyRequest, reply: FastifyReply): boolean {
  const cl = request.headers['content-length'];
  if (cl === undefined || Number(cl) <= limit) return false;
  // The body is never read: close the connection so it is not parsed as a next request.
  reply.header('connection', 'close');
  sendProblem(request, reply, 'PAYLOAD_TOO_LARGE', `request body of ${cl} bytes is over the ${limit}-byte limit`);
  return true;
}

/** The payload, counted against the limit when it is chunked. */
function countedPayload(limit: number, request: FastifyRequest, payload: Readable): Readable {
  // Content-Length was checked in onRequest and Node frames it; without Transfer-Encoding there is no body to count.
  if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] === undefined) return payload;
  const limited = new LimitedBody(limit);
  payload.on('error', (err) => limited.destroy(err));
  limited.once('error', () => {
    // Stop forwarding, but read and discard what the client still sends so it can read the 413.
    payload.unpipe(limited);
    payload.resume();
    setTimeout(() => request.raw.socket?.destroy(), 5000).unref();
  });
  return payload.pipe(limited);
}

/** Callback-style hooks (no promise per request) for the gateway-wide limit, which runs on most routes. */
export interface BodyLimitHooks {
  onRequest(request: FastifyRequest, reply: FastifyReply, done: Done): void;
  preParsing(request: FastifyRequest, reply: FastifyReply, payload: Readable, done: ParsingDone): void;
}

export function bodyLimitHooks(limit: number): BodyLimitHooks {
  return {
    onRequest(request, reply, done) {
      if (!refuseDeclared(limit, request, reply)) done(); // answered: the lifecycle stops there
    },
    preParsing(request, _reply, payload, done) {
      done(null, countedPayload(limit, request, payload));
    },
  };
}

/** The same limit as async hooks, the form plugins return (request-size). */
export function asyncBodyLimitHooks(limit: number): {
  onRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  preParsing(request: FastifyRequest, reply: FastifyReply, payload: Readable): Promise<Readable>;
} {
  return {
    async onRequest(request, reply) {
      // Returning the reply stops the lifecycle even while async onSend hooks are still sending it.
      return refuseDeclared(limit, request, reply) ? reply : undefined;
    },
    async preParsing(request, _reply, payload) {
      return countedPayload(limit, request, payload);
    },
  };
}
