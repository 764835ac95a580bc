/** The length-prefixed splitter: records whole, however the stream is cut into chunks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LengthPrefixedSplitter } from '../../../src/targets/grpc/length-prefixed.js';

/** Records of a 2-byte header (the body's length) then the body. */
const record = (body: string) => Buffer.concat([Buffer.from([0, body.length]), Buffer.from(body)]);

test('records come out whole and in order for every way of cutting the stream in two, and in single bytes', () => {
  const bodies = ['', 'a', 'hello', 'x'.repeat(40), 'end'];
  const stream = Buffer.concat(bodies.map(record));
  const run = (chunks: Buffer[]) => {
    const s = new LengthPrefixedSplitter(2, (buf, off) => buf.readUInt16BE(off));
    const out: string[] = [];
    for (const c of chunks) s.push(c, (buf, off, length) => out.push(buf.toString('latin1', off + 2, off + 2 + length)));
    return { out, holding: s.holding };
  };
  for (let cut = 0; cut <= stream.length; cut++) {
    assert.deepEqual(run([stream.subarray(0, cut), stream.subarray(cut)]), { out: bodies, holding: false }, `cut at ${cut}`);
  }
  assert.deepEqual(run([...stream].map((b) => Buffer.from([b]))), { out: bodies, holding: false });
  // Stopped in the middle of a record: it is held, not given out.
  assert.deepEqual(run([stream.subarray(0, stream.length - 1)]), { out: bodies.slice(0, -1), holding: true });
});

test('a length the reader refuses throws from push', () => {
  const s = new LengthPrefixedSplitter(2, (buf, off) => {
    const n = buf.readUInt16BE(off);
    if (n > 10) throw new RangeError(`record of ${n}`);
    return n;
  });
  assert.throws(() => s.push(record('y'.repeat(11)), () => undefined), /record of 11/);
});
