/** `body`: reshapes JSON request and response bodies and converts XML↔JSON. */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors.js';
import { definePlugin } from '../define.js';
import { isJsonType, isXmlType, mediaType, readLimited, requestBodyBytes, requestHasBody } from '../read-body.js';
import { compileReshape, type Reshape } from './reshape.js';
import { BodyConfig } from './schema.js';
import { jsonToXml, xmlToJson } from './xml.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const XML_TYPE = 'application/xml; charset=utf-8';

const isPlainObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !(v instanceof Readable) && !Buffer.isBuffer(v);

function replyHeader(reply: FastifyReply, name: string): string | undefined {
  const v = reply.getHeader(name);
  return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
}

export default definePlugin({
  name: 'body',
  description: 'reshapes JSON bodies (select, omit, rename, set, wrap, unwrap) and converts XML<->JSON',
  config: BodyConfig,
  create(config) {
    const reqReshape = compileReshape(config.request, 'request');
    const resReshape = compileReshape(config.response, 'response');
    const xmlReq = config.xml === 'request' || config.xml === 'both';
    const xmlRes = config.xml === 'response' || config.xml === 'both';
    if (!reqReshape && !resReshape && !xmlReq && !xmlRes) return null;
    // The client's Accept-Encoding, held back from the upstream so the response arrives readable.
    const acceptEncoding = new WeakMap<FastifyRequest, string | undefined>();

    const apply = (reshape: Reshape | undefined, value: unknown, request: FastifyRequest) => (reshape ? reshape(value, request) : value);

    async function transformRequest(request: FastifyRequest): Promise<void> {
      const parsed = isPlainObject(request.body) ? request.body : undefined; // an earlier plugin (validate) parsed it
      const type = mediaType(request.headers['content-type']);
      const json = parsed !== undefined || isJsonType(type);
      const xml = !json && isXmlType(type);
      if (!(json && (reqReshape || xmlReq)) && !(xml && xmlReq)) return;
      if (parsed === undefined && !requestHasBody(request) && request.body === undefined) return;
      const got = parsed ?? (await requestBodyBytes(request, config.maxSize));
      if (got === undefined) return;
      let value: unknown;
      try {
        value = Buffer.isBuffer(got) ? (json ? JSON.parse(got.toString('utf8')) : xmlToJson(got.toString('utf8'))) : got;
      } catch (err) {
        throw new GatewayError('BAD_REQUEST', `request body is not valid ${json ? 'JSON' : 'XML'}: ${(err as Error).message}`);
      }
      value = apply(reqReshape, value, request);
      const toXml = json && xmlReq;
      request.body = Buffer.from(toXml ? jsonToXml(value, config.xmlRoot) : JSON.stringify(value) ?? 'null');
      request.headers['content-type'] = toXml ? XML_TYPE : json ? request.headers['content-type'] ?? JSON_TYPE : JSON_TYPE;
      request.headers['content-length'] = String((request.body as Buffer).length);
      delete request.headers['transfer-encoding'];
    }

    async function transformResponse(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
      if (payload === null || payload === undefined || request.method === 'HEAD') return payload;
      if (replyHeader(reply, 'content-encoding') !== undefined) return payload; // cannot be read
      const type = mediaType(replyHeader(reply, 'content-type'));
      if (type === 'application/problem+json') return payload; // the gateway's own errors stay as they are
      const ok = reply.statusCode >= 200 && reply.statusCode < 300;
      const json = isJsonType(type);
      const xml = isXmlType(type);
      const reshape = ok ? resReshape : undefined;
      if (!(json && (reshape || xmlRes)) && !(xml && xmlRes)) return payload;
      let bytes: Buffer;
      if (typeof payload === 'string') bytes = Buffer.from(payload);
      else if (Buffer.isBuffer(payload)) bytes = payload;
      else if (payload instanceof Readable) {
        try {
          bytes = await readLimited(payload, config.maxSize, 'upstream response body');
        } catch (err) {
          if (err instanceof GatewayError) throw new GatewayError('BAD_GATEWAY', `${err.message} (body plugin's maxSize)`);
          throw err;
        }
      } else return payload;
      let value: unknown;
      try {
        value = json ? JSON.parse(bytes.toString('utf8')) : xmlToJson(bytes.toString('utf8'));
      } catch (err) {
        request.log.warn({ err: { message: (err as Error).message } }, `upstream ${json ? 'JSON' : 'XML'} body could not be parsed; sent unchanged`);
        return bytes;
      }
      value = apply(reshape, value, request);
      const toXml = json && xmlRes;
      const out = toXml ? jsonToXml(value, config.xmlRoot) : JSON.stringify(value) ?? 'null';
      reply.header('content-type', toXml ? XML_TYPE : json ? replyHeader(reply, 'content-type')! : JSON_TYPE);
      reply.removeHeader('content-length');
      reply.removeHeader('etag'); // the bytes changed
      return out;
    }

    return {
      preHandler: async (request) => {
        if (resReshape || xmlRes) {
          acceptEncoding.set(request, request.headers['accept-encoding']);
          request.headers['accept-encoding'] = 'identity';
        }
        await transformRequest(request);
      },
      onSend: async (request, reply, payload) => {
        if (acceptEncoding.has(request)) {
          // Give later onSend hooks (compress) the client's Accept-Encoding back.
          const ae = acceptEncoding.get(request);
          if (ae === undefined) delete request.headers['accept-encoding'];
          else request.headers['accept-encoding'] = ae;
          acceptEncoding.delete(request);
        }
        return transformResponse(request, reply, payload);
      },
    };
  },
});
