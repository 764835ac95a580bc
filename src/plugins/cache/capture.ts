/** Copies a response body as it streams to the client, up to a size; gives up (passing everything through) beyond it. */
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';

export function captureStream(source: Readable, maxBytes: number, onComplete: (body: Buffer | null) => void): Transform {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  let reported = false;
  const report = (body: Buffer | null) => {
    if (reported) return;
    reported = true;
    onComplete(body);
  };
  const tee = new Transform({
    transform(chunk: Buffer | string, _enc, done: TransformCallback) {
      if (!overflow) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += buf.length;
        if (size > maxBytes) {
          overflow = true;
          chunks.length = 0;
          report(null);
        } else chunks.push(buf);
      }
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      report(overflow ? null : Buffer.concat(chunks, size));
      done();
    },
  });
  // An upstream reset or a client that leaves: nothing is stored, and each side's end reaches the other.
  tee.once('close', () => report(null));
  pipeline(source, tee, () => undefined);
  return tee;
}
