/** Reads a request body that the gateway left as a stream into memory, up to a cap (413 past it). */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

/** The request carries a body (framed by Content-Length > 0 or chunked). */
export function requestHasBody(request: FastifyRequest): boolean {
  const h = request.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

/** The media type of a Content-Type value, lower-case, without parameters. */
export function mediaType(contentType: string | string[] | number | undefined): string {
  const v = Array.isArray(contentType) ? contentType[0] : contentType;
  return v === undefined ? '' : String(v).split(';')[0]!.trim().toLowerCase();
}

export function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

export function isXmlType(type: string): boolean {
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
}

/** Reads a stream fully; throws PAYLOAD_TOO_LARGE once more than `limit` bytes have arrived. */
export async function readLimited(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > limit) {
      stream.destroy();
      throw new GatewayError('PAYLOAD_TOO_LARGE', `${what} is over the ${limit}-byte limit`, { connection: 'close' });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * The request body's bytes: read from the stream the content-type parser left, or taken from a
 * string/Buffer an earlier plugin set. Undefined when there is no body. An object body (already
 * parsed by an earlier plugin) is returned as is.
 */
export async function requestBodyBytes(request: FastifyRequest, limit: number): Promise<Buffer | object | undefined> {
  const b = request.body as unknown;
  if (b instanceof Readable) {
    const cl = request.headers['content-length'];
    if (cl !== undefined && Number(cl) > limit) throw new GatewayError('PAYLOAD_TOO_LARGE', `request body of ${cl} bytes is over the ${limit}-byte limit`, { connection: 'close' });
    return readLimited(b, limit, 'request body');
  }
  if (typeof b === 'string') return Buffer.from(b);
  if (Buffer.isBuffer(b)) return b;
  if (b !== undefined && b !== null && typeof b === 'object') return b;
  if (requestHasBody(request)) return readLimited(request.raw, limit, 'request body');
  return undefined;
}
