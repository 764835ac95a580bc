/** Tracing headers every aggregate backend call carries: the client's trace id kept, a new parent span id. */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function traceHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const tp = incoming.traceparent;
  const m = typeof tp === 'string' ? TRACEPARENT.exec(tp.trim().toLowerCase()) : null;
  if (m && m[1] !== 'ff' && !/^0+$/.test(m[2]!)) {
    out.traceparent = `${m[1]}-${m[2]}-${randomBytes(8).toString('hex')}-${m[4]}`;
    const ts = incoming.tracestate;
    if (ts !== undefined) out.tracestate = Array.isArray(ts) ? ts.join(',') : ts;
  }
  return out;
}
