/** The grpc target: a REST request becomes one gRPC call through the service's balancer; unary answers JSON, server streams NDJSON or SSE. */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { grpcJs } from './deps.js';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { problemBody, sendProblem } from '../../errors.js';
import { stateOf } from '../../request-state.js';
import type { UpstreamService } from '../../upstream/service.js';
import type { UpstreamTarget } from '../../upstream/target.js';
import type { GrpcCall } from './binding.js';
import { grpcClientFor } from './client.js';
import { messageToJson } from './json.js';
import { errorCodeOf, statusName } from './status-map.js';
import { buildRequestObject, encodeRequest, JsonMappingError } from './transcode.js';

const identity = (b: Buffer): Buffer => b;
/** grpc-js's message when no connection to the target could be made. */
const NOT_CONNECTED = /^No connection established/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

async function readBody(request: FastifyRequest): Promise<Buffer | undefined> {
  const b = request.body as unknown;
  if (b === undefined || b === null) return undefined;
  if (Buffer.isBuffer(b)) return b;
  if (typeof b === 'string') return Buffer.from(b);
  if (!(b instanceof Readable)) return Buffer.from(JSON.stringify(b));
  const chunks: Buffer[] = [];
  for await (const c of b) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The trace id kept, a new parent span id. */
function childTraceparent(value: string | undefined): string | undefined {
  const m = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  return m ? `${m[1]}-${m[2]}-${randomBytes(8).toString('hex')}-${m[4]}` : undefined;
}

function metadataFor(request: FastifyRequest, call: GrpcCall): grpc.Metadata {
  const { Metadata } = grpcJs();
  const md = new Metadata();
  md.set('x-request-id', request.id);
  const tp = childTraceparent(request.headers.traceparent as string | undefined);
  if (tp) md.set('traceparent', tp);
  for (const name of call.requestMetadata) {
    const v = request.headers[name];
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) md.add(name, one);
  }
  return md;
}

function copyResponseMetadata(reply: FastifyReply, call: GrpcCall, md: grpc.Metadata): void {
  for (const name of call.responseMetadata) {
    const values = md.get(name).filter((v): v is string => typeof v === 'string');
    if (values.length > 0) reply.header(name, values.length === 1 ? values[0] : values);
  }
}

function problemOfStatus(err: grpc.ServiceError, service: string): { code: ReturnType<typeof errorCodeOf>; detail: string } {
  const code = errorCodeOf(err.code);
  return { code, detail: err.details || `service ${service} answered ${statusName(err.code)}` };
}

function decodeToJson(call: GrpcCall, buf: Buffer): unknown {
  return messageToJson(call.responseType, call.responseType.decode(buf));
}

export function createGrpcHandler(call: GrpcCall, service: UpstreamService): RouteHandlerMethod {
  const timeout = call.timeout ?? service.config.timeout;
  const client = (target: UpstreamTarget) => grpcClientFor(target, service.config);

  return async function grpcTarget(request, reply) {
    // Everything about the request is checked before any call: a bad body or field is a 400 here.
    let message: Buffer;
    try {
      const raw = await readBody(request);
      let body: unknown;
      if (raw !== undefined && raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          return sendProblem(request, reply, 'BAD_REQUEST', `request body is not valid JSON: ${(err as Error).message}`);
        }
      }
      const plain = buildRequestObject(call.requestType, call.binding, {
        params: request.params as Record<string, string>,
        query: request.query as Record<string, string | string[]>,
        body,
      });
      message = encodeRequest(call.requestType, plain);
    } catch (err) {
      if (err instanceof JsonMappingError) return sendProblem(request, reply, 'BAD_REQUEST', err.message);
      throw err;
    }
    const deadline = new Date(Date.now() + Math.max(1, timeout - reply.elapsedTime));
    const metadata = metadataFor(request, call);
    if (call.serverStreaming) {
      const target = service.pick(request);
      if (!target) return sendProblem(request, reply, 'UPSTREAM_UNAVAILABLE', `service ${service.name} has no available target`);
      stateOf(request).target = target.url;
      return serverStream(request, reply, call, client(target), message, metadata, deadline, target, service.name);
    }

    const unary = (target: UpstreamTarget) =>
      new Promise<{ response: Buffer; headers: grpc.Metadata }>((resolve, reject) => {
        const { Metadata } = grpcJs();
        let headers = new Metadata();
        const c = client(target).makeUnaryRequest(call.path, identity, identity, message, metadata, { deadline }, (err, value) => {
          if (err) reject(err);
          else resolve({ response: value!, headers });
        });
        c.on('metadata', (md) => {
          headers = md;
        });
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) c.cancel();
        });
      });

    let tried: Set<UpstreamTarget> | undefined;
    for (let attempt = 0; ; attempt++) {
      const target = service.pick(request, tried);
      if (!target) return sendProblem(request, reply, 'UPSTREAM_UNAVAILABLE', `service ${service.name} has no available target`);
      stateOf(request).target = target.url;
      target.inflight++;
      try {
        const { response, headers } = await unary(target);
        let json: unknown;
        try {
          json = decodeToJson(call, response);
        } catch (err) {
          return sendProblem(request, reply, 'GRPC_INTERNAL', `service ${service.name} sent a message that does not decode as ${call.responseType.name}: ${(err as Error).message}`);
        }
        copyResponseMetadata(reply, call, headers);
        return reply.code(200).header('content-type', 'application/json').send(JSON.stringify(json));
      } catch (err) {
        const e = err as grpc.ServiceError;
        if (e.code === grpcJs().status.CANCELLED && reply.raw.destroyed) return reply;
        // No connection could be made, so the call never reached a server: one more try, elsewhere.
        if (attempt === 0 && e.code === grpcJs().status.UNAVAILABLE && NOT_CONNECTED.test(e.details ?? '') && service.list().length > 1) {
          (tried ??= new Set()).add(target);
          continue;
        }
        const { code, detail } = problemOfStatus(e, service.name);
        if (e.metadata) copyResponseMetadata(reply, call, e.metadata);
        return sendProblem(request, reply, code, detail);
      } finally {
        target.inflight--;
      }
    }
  };
}

/** A server stream: NDJSON, or SSE when the client accepts text/event-stream. Headers wait for the first message, so an early error is a plain problem response. */
function serverStream(
  request: FastifyRequest,
  reply: FastifyReply,
  call: GrpcCall,
  client: grpc.Client,
  message: Buffer,
  metadata: grpc.Metadata,
  deadline: Date,
  target: UpstreamTarget,
  serviceName: string,
): Promise<FastifyReply> {
  const sse = /\btext\/event-stream\b/i.test(String(request.headers.accept ?? ''));
  const frame = (json: unknown, event?: string) => (sse ? `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(json)}\n\n` : `${JSON.stringify(json)}\n`);
  target.inflight++;
  return new Promise((resolve) => {
    const stream = client.makeServerStreamRequest(call.path, identity, identity, message, metadata, { deadline });
    let out: PassThrough | undefined;
    let finished = false;
    const finish = () => {
      if (!finished) {
        finished = true;
        target.inflight--;
      }
    };
    const start = () => {
      if (out) return out;
      out = new PassThrough();
      reply.code(200).header('content-type', sse ? 'text/event-stream' : 'application/x-ndjson').header('cache-control', 'no-cache');
      resolve(reply.send(out));
      return out;
    };
    stream.on('metadata', (md: grpc.Metadata) => copyResponseMetadata(reply, call, md));
    stream.on('data', (buf: Buffer) => {
      let json: unknown;
      try {
        json = decodeToJson(call, buf);
      } catch (err) {
        stream.cancel();
        const problem = problemBody('GRPC_INTERNAL', request.id, `a message does not decode as ${call.responseType.name}: ${(err as Error).message}`);
        start().end(frame({ error: problem }, 'error'));
        finish();
        return;
      }
      start().write(frame(json));
    });
    stream.on('error', (err: grpc.ServiceError) => {
      finish();
      if (err.code === grpcJs().status.CANCELLED && reply.raw.destroyed) {
        out?.destroy();
        if (!out) resolve(reply);
        return;
      }
      const { code, detail } = problemOfStatus(err, serviceName);
      if (!out) {
        resolve(sendProblem(request, reply, code, detail));
        return;
      }
      // Mid-stream: the status line is long gone, so the error is the stream's last event.
      out.end(frame({ error: problemBody(code, request.id, detail) }, 'error'));
    });
    stream.on('end', () => {
      finish();
      if (!out) start();
      out!.end();
    });
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) stream.cancel();
    });
  });
}
