/** `validate`: checks query, params, headers and JSON body against JSON Schema or an OpenAPI 3 operation; 400 listing every violation. */
import { Readable } from 'node:stream';
import type { Ajv, ValidateFunction } from 'ajv';
import type addFormatsModule from 'ajv-formats';
import { lazyModule } from '../../lazy-module.js';
import type { FastifyRequest } from 'fastify';
import { GatewayError, sendProblem } from '../../errors.js';
import { definePlugin } from '../define.js';
import { isJsonType, mediaType, requestBodyBytes, requestHasBody } from '../read-body.js';
import { checkLimits } from './limits.js';
import { loadOpenApi, operationSchemas, type OpenApiDoc, type PartSchemas, type Schema } from './openapi.js';
import { ValidateConfig } from './schema.js';
import { fromAjv, type Part, type Violation } from './violations.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable may sit on .default.
// Loaded when a route first uses `validate`, not at startup.
const ajvModule = lazyModule<typeof import('ajv')>('ajv');
const formatsModule = lazyModule<typeof addFormatsModule>('ajv-formats');
const addFormats = (ajv: Ajv): Ajv => {
  const m = formatsModule();
  return (((m as unknown as { default?: unknown }).default ?? m) as (a: Ajv) => Ajv)(ajv);
};

const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

interface Checks {
  query?: ValidateFunction;
  params?: ValidateFunction;
  headers?: ValidateFunction;
  body?: ValidateFunction;
  bodyRequired: boolean;
}

/** Header names are case-insensitive: the schema's top-level property names are matched lower-cased. */
function lowerHeaderSchema(schema: Schema): Schema {
  if (typeof schema === 'boolean') return schema;
  const out: Record<string, unknown> = { type: 'object', ...schema };
  if (schema.properties && typeof schema.properties === 'object') {
    out.properties = Object.fromEntries(Object.entries(schema.properties as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
  }
  if (Array.isArray(schema.required)) out.required = schema.required.map((r) => String(r).toLowerCase());
  return out;
}

function makeAjv(coerce: boolean, api: OpenApiDoc | undefined): Ajv {
  // strict: false lets OpenAPI's extra keywords (example, xml, discriminator...) through.
  const ajv = new (ajvModule().Ajv)({ allErrors: true, strict: false, coerceTypes: coerce ? 'array' : false, validateSchema: api === undefined });
  addFormats(ajv);
  if (api) ajv.addSchema(api.doc, api.id);
  return ajv;
}

function compileParts(parts: PartSchemas, api: OpenApiDoc | undefined): Checks {
  const strings = makeAjv(true, api);
  const json = makeAjv(false, api);
  const compile = (ajv: Ajv, part: Part, schema: Schema | undefined) => {
    if (schema === undefined) return undefined;
    try {
      return ajv.compile(schema);
    } catch (err) {
      throw new Error(`${part} schema: ${(err as Error).message}`);
    }
  };
  return {
    query: compile(strings, 'query', parts.query),
    params: compile(strings, 'params', parts.params),
    headers: compile(strings, 'headers', parts.headers === undefined ? undefined : lowerHeaderSchema(parts.headers)),
    body: compile(json, 'body', parts.body),
    bodyRequired: parts.bodyRequired,
  };
}

function check(fn: ValidateFunction | undefined, part: Part, data: unknown, out: Violation[]): void {
  if (!fn) return;
  // Coercion ("5" → 5) works on a copy: the request goes upstream as the client sent it.
  if (!fn(structuredClone(data))) out.push(...fromAjv(part, fn.errors));
}

export default definePlugin({
  name: 'validate',
  description: 'checks query, params, headers and JSON body against JSON Schema or OpenAPI (400 VALIDATION_FAILED)',
  config: ValidateConfig,
  create(config, ctx) {
    const inline = config.query !== undefined || config.params !== undefined || config.headers !== undefined || config.body !== undefined;
    if (config.openapi !== undefined && inline) throw new Error('use either openapi or query/params/headers/body schemas, not both');
    if (config.operation !== undefined && config.openapi === undefined) throw new Error('operation needs openapi');
    if (config.openapi === undefined && !inline) throw new Error('give at least one of query, params, headers, body, or openapi');

    const byMethod = new Map<string, Checks>();
    if (config.openapi !== undefined) {
      const api = loadOpenApi(config.openapi, ctx.configDir);
      for (const [m, parts] of operationSchemas(api, ctx.route.path, ctx.route.methods, config.operation)) byMethod.set(m, compileParts(parts, api));
    } else {
      byMethod.set('*', compileParts({ query: config.query, params: config.params, headers: config.headers, body: config.body, bodyRequired: false }, undefined));
    }

    async function readJson(request: FastifyRequest, checks: Checks, out: Violation[]): Promise<void> {
      const type = mediaType(request.headers['content-type']);
      if (requestHasBody(request) && !isJsonType(type) && !(typeof request.body === 'object' && request.body !== null && !(request.body instanceof Readable) && !Buffer.isBuffer(request.body))) {
        // Not JSON: left streaming, unless a body schema says this route takes JSON.
        if (checks.body) throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', `this route takes application/json, not ${type || 'a body without Content-Type'}`, { connection: 'close' });
        return;
      }
      const got = await requestBodyBytes(request, config.maxBodySize);
      if (got === undefined) {
        if (checks.body && (checks.bodyRequired || !BODYLESS.has(request.method))) out.push({ in: 'body', path: '', message: 'is required' });
        return;
      }
      let value: unknown;
      if (Buffer.isBuffer(got)) {
        if (!isJsonType(type)) {
          request.body = got; // read already: send these bytes on
          if (checks.body) throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', `this route takes application/json, not ${type || 'a body without Content-Type'}`);
          return;
        }
        try {
          value = JSON.parse(got.toString('utf8'));
        } catch (err) {
          request.body = got;
          out.push({ in: 'body', path: '', message: `is not valid JSON (${(err as Error).message})` });
          return;
        }
        // Objects go on parsed (later plugins reshape them; the proxy re-serialises); other JSON values as the client's bytes.
        request.body = value !== null && typeof value === 'object' ? value : got;
      } else {
        value = got;
      }
      const limits = checkLimits(value, config.maxDepth, config.maxArrayLength);
      if (limits.length > 0) {
        out.push(...limits);
        return; // a body over the limits is not walked by the schema
      }
      check(checks.body, 'body', value, out);
    }

    return {
      preValidation: async (request, reply) => {
        const checks = byMethod.get(request.method) ?? byMethod.get('*');
        if (!checks) return;
        const out: Violation[] = [];
        check(checks.params, 'params', request.params ?? {}, out);
        check(checks.query, 'query', request.query ?? {}, out);
        check(checks.headers, 'headers', request.headers, out);
        await readJson(request, checks, out);
        if (out.length > 0) {
          const detail = out.length === 1 ? `${out[0]!.in} ${out[0]!.path || ''} ${out[0]!.message}`.replace(/\s+/g, ' ') : `${out.length} violations`;
          return sendProblem(request, reply, 'VALIDATION_FAILED', detail, { fields: { violations: out } });
        }
      },
    };
  },
});
