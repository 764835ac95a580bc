/**
 * The request body as undici sends it: nothing, bytes, or the client's stream. When the
 * service retries, a body with a Content-Length within `retry.maxBodySize` is read into memory
 * first so that a retry can send it again; anything else streams through and is sent once.
 */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';

export interface OutgoingBody {
  readonly body: Dispatcher.RequestOptions['body'];
  /** Byte length when known up front (sets Content-Length). */
  readonly length?: number;
  /** The body can be sent again. */
  readonly replayable: boolean;
}

/** A request without a body: nothing to send, and a retry may send nothing again. */
export const NO_BODY: OutgoingBody = Object.freeze({ body: undefined, replayable: true });

/** True when the request has no body at all (most GETs): outgoingBody would give NO_BODY, with no await needed. */
export function bodiless(request: FastifyRequest): boolean {
  const b = request.body as unknown;
  return (b === undefined || b === null) && !hasBody(request);
}

function hasBody(request: FastifyRequest): boolean {
  const h = request.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function outgoingBody(request: FastifyRequest, bufferUpTo: number): Promise<OutgoingBody> {
  const b = request.body as unknown;
  if (b === undefined || b === null) return hasBody(request) ? { body: request.raw, replayable: false } : NO_BODY;
  if (b instanceof Readable) {
    const cl = request.headers['content-length'];
    if (bufferUpTo > 0 && cl !== undefined && Number(cl) <= bufferUpTo) {
      const bytes = await readAll(b);
      return { body: bytes, length: bytes.length, replayable: true };
    }
    return { body: b, replayable: false };
  }
  if (typeof b === 'string' || Buffer.isBuffer(b)) return { body: b, length: Buffer.byteLength(b), replayable: true };
  const json = JSON.stringify(b);
  return { body: json, length: Buffer.byteLength(json), replayable: true };
}
