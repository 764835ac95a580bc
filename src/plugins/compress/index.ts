/** `compress`: gzip or brotli responses per Accept-Encoding, streaming through Node's zlib. */
import { pipeline, Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyReply } from 'fastify';
import { definePlugin } from '../define.js';
import { pickEncoding, typeMatcher, type Encoding } from './negotiate.js';
import { CompressConfig } from './schema.js';

function header(reply: FastifyReply, name: string): string | undefined {
  const v = reply.getHeader(name);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

function addVary(reply: FastifyReply): void {
  const vary = header(reply, 'vary');
  if (!vary) return void reply.header('vary', 'Accept-Encoding');
  const names = vary.split(',').map((s) => s.trim().toLowerCase());
  if (names.includes('*') || names.includes('accept-encoding')) return;
  reply.header('vary', `${vary}, Accept-Encoding`);
}

/** Size when the payload or its Content-Length tells it; undefined for a stream of unknown length. */
function knownSize(reply: FastifyReply, payload: unknown): number | undefined {
  if (typeof payload === 'string') return Buffer.byteLength(payload);
  if (Buffer.isBuffer(payload)) return payload.length;
  const cl = header(reply, 'content-length');
  return cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
}

export default definePlugin({
  name: 'compress',
  description: 'gzip/brotli responses per Accept-Encoding',
  config: CompressConfig,
  create(config) {
    const matches = typeMatcher(config.types);
    const encoder = (enc: Encoding): zlib.Gzip | zlib.BrotliCompress =>
      enc === 'gzip'
        ? zlib.createGzip({ level: config.gzipLevel })
        : zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: config.brotliQuality } });
    return {
      onSend: async (request, reply, payload) => {
        const status = reply.statusCode;
        if (request.method === 'HEAD' || status < 200 || status === 204 || status === 206 || status === 304) return payload;
        if (payload === null || payload === undefined) return payload;
        if (header(reply, 'content-encoding') !== undefined) return payload;
        if (/(^|,)\s*no-transform\s*(,|$)/i.test(header(reply, 'cache-control') ?? '')) return payload;
        if (!matches(header(reply, 'content-type'))) return payload;
        // From here the response depends on Accept-Encoding, whether or not this one is compressed.
        addVary(reply);
        const size = knownSize(reply, payload);
        if (size !== undefined && size < config.threshold) return payload;
        const enc = pickEncoding(request.headers['accept-encoding'], config.encodings);
        if (!enc) return payload;
        const source = typeof payload === 'string' || Buffer.isBuffer(payload) ? Readable.from([Buffer.from(payload)]) : payload instanceof Readable ? payload : undefined;
        if (!source) return payload;
        const z = encoder(enc);
        // A failing source (upstream reset mid-body) destroys the encoder, which ends the response.
        pipeline(source, z, (err) => {
          if (err) request.log.debug({ err: { message: err.message } }, 'compression stream ended early');
        });
        reply.removeHeader('content-length');
        reply.header('content-encoding', enc);
        const etag = header(reply, 'etag');
        if (etag && !etag.startsWith('W/')) reply.header('etag', `W/${etag}`);
        return z;
      },
    };
  },
});
