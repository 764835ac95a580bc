/** The grpc target: a REST request becomes one gRPC call through the service's balancer; unary answers JSON, server streams NDJSON or SSE. */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { PassThrough, Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { problemBody, sendProblem } from '../../errors.js';
import { stateOf } from '../../request-state.js';
import type { UpstreamService } from '../../upstream/service.js';
import type { UpstreamTarget } from '../../upstream/target.js';
import type { GrpcCall } from './binding.js';
import { GrpcCallError, type CallHandle, type CallStatus, type GrpcChannel } from './channel.js';
import { grpcChannelFor } from './client.js';
import { messageToJson } from './json.js';
import { errorCodeOf, statusName } from './status-map.js';
import { GrpcCode } from './status-codes.js';
import { buildRequestObject, encodeRequest, JsonMappingError } from './transcode.js';
import { GrpcAnswer, GrpcStreamAnswer, resilientStreamTry, resilientUnaryTry, type GrpcTryInput } from './resilient-call.js';
import type { UpstreamObserver } from '../../observability/upstream-observer.js';
import { UpstreamError, type TargetCall } from '../../upstream/call.js';
import { ClientGone, listen, type CallSignal } from '../../upstream/client-gone.js';
import { nothingToPick } from '../../upstream/with-balancer.js';

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

/** The call's metadata: the listed request headers, then x-request-id and a child traceparent (reserved names are refused at load). */
function metadataFor(request: FastifyRequest, call: GrpcCall): Record<string, string | string[]> {
  const md: Record<string, string | string[]> = {};
  for (const name of call.requestMetadata) {
    const v = request.headers[name];
    if (v !== undefined) md[name] = v;
  }
  md['x-request-id'] = request.id;
  const tp = childTraceparent(request.headers.traceparent as string | undefined);
  if (tp) md.traceparent = tp;
  return md;
}

/** The listed response metadata as response headers (`-bin` values as sent: base64). */
function copyResponseMetadata(reply: FastifyReply, call: GrpcCall, md: IncomingHttpHeaders): void {
  for (const name of call.responseMetadata) {
    const v = md[name];
    if (v !== undefined && v !== '') reply.header(name, v);
  }
}

function problemOfStatus(err: CallStatus, service: string): { code: ReturnType<typeof errorCodeOf>; detail: string } {
  const code = errorCodeOf(err.code);
  return { code, detail: err.details || `service ${service} answered ${statusName(err.code)}` };
}

function decodeToJson(call: GrpcCall, buf: Buffer): unknown {
  return messageToJson(call.responseType, call.responseType.decode(buf));
}

/**
 * One unary call on `channel`: resolves with the response message and metadata, rejects with a
 * GrpcCallError; cancelled when the try's signal fires (the client left).
 */
function unaryCall(channel: GrpcChannel, call: GrpcCall, message: Buffer, metadata: OutgoingHttpHeaders, timeoutMs: number, signal: CallSignal) {
  return new Promise<{ response: Buffer; headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders }>((resolve, reject) => {
    let headers: IncomingHttpHeaders = {};
    let response: Buffer | undefined;
    let extra = false;
    let stopListening = (): void => undefined;
    const handle = channel.start(call.path, message, metadata, timeoutMs, {
      onHeaders: (h) => {
        headers = h;
      },
      onMessage: (m) => {
        if (response === undefined) response = m;
        else extra = true;
      },
      onEnd: (status) => {
        stopListening();
        if (status.code !== GrpcCode.OK) reject(new GrpcCallError(status));
        // A unary method answers exactly one message (grpc-js reports the same statuses).
        else if (response === undefined) reject(new GrpcCallError({ code: GrpcCode.UNIMPLEMENTED, details: 'No message received', metadata: status.metadata }));
        else if (extra) reject(new GrpcCallError({ code: GrpcCode.UNIMPLEMENTED, details: 'Too many response messages for a unary call', metadata: status.metadata }));
        else resolve({ response, headers, trailers: status.metadata });
      },
    });
    stopListening = cancelledBy(signal, handle);
  });
}

/** Cancels the call when `signal` fires (the client left); returns the function that stops listening. */
function cancelledBy(signal: CallSignal, handle: CallHandle): () => void {
  const cancel = () => handle.cancel();
  if (!signal.aborted) return listen(signal, cancel);
  cancel();
  return () => undefined;
}

/** The problem response of a call that got no answer (no target, open circuits, no connection). */
function sendUpstreamError(request: FastifyRequest, reply: FastifyReply, err: UpstreamError): FastifyReply {
  return sendProblem(request, reply, err.code, err.message, { headers: err.headers });
}

/**
 * Runs `tryOn` on the targets the balancer picks: a call that could not connect is tried once
 * more on another target. Gives the answer, or the reply with the problem already sent.
 */
async function firstAnswer<A extends GrpcAnswer | GrpcStreamAnswer>(
  tryOn: TargetCall<A>,
  input: GrpcTryInput,
  service: UpstreamService,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<A | FastifyReply> {
  for (let attempt = 0; ; attempt++) {
    const target = service.pick(request, input.tried.size > 0 ? input.tried : undefined);
    if (!target) return sendUpstreamError(request, reply, nothingToPick(service));
    stateOf(request).target = target.url;
    input.tried.add(target);
    try {
      return (await tryOn(target, input)).response;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      if (err.kind === 'client-gone') return reply;
      // No connection could be made, so the call never reached a server: one more try, elsewhere.
      if (err.kind === 'connect-error' && attempt === 0 && service.list().length > 1) continue;
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof GrpcCallError) {
        const { code, detail } = problemOfStatus(cause, service.name);
        return sendProblem(request, reply, code, detail);
      }
      return sendUpstreamError(request, reply, err);
    }
  }
}

export function createGrpcHandler(call: GrpcCall, service: UpstreamService, observer: UpstreamObserver): RouteHandlerMethod {
  const timeout = call.timeout ?? service.config.timeout;
  const channel = (target: UpstreamTarget) => grpcChannelFor(target, service.config);
  const unaryTry = resilientUnaryTry(service, observer, channel, (ch, input) => unaryCall(ch, call, input.message, input.headers, input.timeLeft(), input.signal));
  const streamTry = resilientStreamTry(service, observer, channel, (ch, input, listener) => {
    let stopListening = (): void => undefined;
    const handle = ch.start(call.path, input.message, input.headers, input.timeLeft(), {
      onHeaders: (h) => listener.onHeaders?.(h),
      onMessage: (m) => listener.onMessage(m),
      onEnd: (status) => {
        stopListening();
        listener.onEnd(status);
      },
    });
    stopListening = cancelledBy(input.signal, handle);
    return handle;
  });

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
    const gone = new ClientGone();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const input: GrpcTryInput = {
      request,
      method: request.method as GrpcTryInput['method'],
      path: call.path,
      headers: metadataFor(request, call),
      body: undefined,
      replayable: true,
      signal: gone,
      tried: new Set(),
      message,
      timeLeft: () => Math.max(1, timeout - reply.elapsedTime),
    };

    if (call.serverStreaming) {
      const answer = await firstAnswer(streamTry, input, service, request, reply);
      if (!(answer instanceof GrpcStreamAnswer)) return answer;
      return serverStream(request, reply, call, answer, service.name);
    }

    const answer = await firstAnswer(unaryTry, input, service, request, reply);
    if (!(answer instanceof GrpcAnswer)) return answer;
    const outcome = answer.outcome;
    if ('error' in outcome) {
      const { code, detail } = problemOfStatus(outcome.error, service.name);
      copyResponseMetadata(reply, call, outcome.error.metadata);
      return sendProblem(request, reply, code, detail);
    }
    let json: unknown;
    try {
      json = decodeToJson(call, outcome.response);
    } catch (err) {
      return sendProblem(request, reply, 'GRPC_INTERNAL', `service ${service.name} sent a message that does not decode as ${call.responseType.name}: ${(err as Error).message}`);
    }
    copyResponseMetadata(reply, call, outcome.headers);
    copyResponseMetadata(reply, call, outcome.trailers);
    return reply.code(200).header('content-type', 'application/json').send(JSON.stringify(json));
  };
}

/** A server stream: NDJSON, or SSE when the client accepts text/event-stream. Headers wait for the first message, so an early error is a plain problem response. */
function serverStream(request: FastifyRequest, reply: FastifyReply, call: GrpcCall, answer: GrpcStreamAnswer, serviceName: string): Promise<FastifyReply> {
  const sse = /\btext\/event-stream\b/i.test(String(request.headers.accept ?? ''));
  const frame = (json: unknown, event?: string) => (sse ? `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(json)}\n\n` : `${JSON.stringify(json)}\n`);
  return new Promise((resolve) => {
    let out: PassThrough | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return false;
      finished = true;
      return true;
    };
    const start = () => {
      if (out) return out;
      out = new PassThrough();
      reply.code(200).header('content-type', sse ? 'text/event-stream' : 'application/x-ndjson').header('cache-control', 'no-cache');
      resolve(reply.send(out));
      return out;
    };
    const handle = answer.handle;
    answer.relay.attach({
      onHeaders: (md) => copyResponseMetadata(reply, call, md),
      onMessage: (buf) => {
        if (finished) return;
        let json: unknown;
        try {
          json = decodeToJson(call, buf);
        } catch (err) {
          finish();
          handle.cancel();
          const problem = problemBody('GRPC_INTERNAL', request.id, `a message does not decode as ${call.responseType.name}: ${(err as Error).message}`);
          start().end(frame({ error: problem }, 'error'));
          return;
        }
        start().write(frame(json));
      },
      onEnd: (status) => {
        if (!finish()) return;
        if (status.code === GrpcCode.OK) {
          start().end();
          return;
        }
        if (status.code === GrpcCode.CANCELLED && reply.raw.destroyed) {
          out?.destroy();
          if (!out) resolve(reply);
          return;
        }
        const { code, detail } = problemOfStatus(status, serviceName);
        if (!out) {
          resolve(sendProblem(request, reply, code, detail));
          return;
        }
        // Mid-stream: the status line is long gone, so the error is the stream's last event.
        out.end(frame({ error: problemBody(code, request.id, detail) }, 'error'));
      },
    });
  });
}
