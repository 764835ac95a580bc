import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { GrpcCode } from '../../../src/targets/grpc/status-codes.js';
import {
  decodeGrpcMessage,
  frameMessage,
  grpcCodeOfHttpStatus,
  grpcCodeOfRstCode,
  grpcTimeout,
  MessageReader,
  parseGrpcStatus,
  WireError,
} from '../../../src/targets/grpc/wire.js';

function gzipFrame(body: Buffer): Buffer {
  const z = gzipSync(body);
  const out = Buffer.alloc(5 + z.length);
  out[0] = 1;
  out.writeUInt32BE(z.length, 1);
  z.copy(out, 5);
  return out;
}

test('frameMessage prefixes the message with flag 0 and its big-endian length', () => {
  assert.deepEqual(frameMessage(Buffer.from('abc')), Buffer.from([0, 0, 0, 0, 3, 0x61, 0x62, 0x63]));
  assert.deepEqual(frameMessage(Buffer.alloc(0)), Buffer.from([0, 0, 0, 0, 0]));
});

test('MessageReader splits messages however the chunks fall: byte by byte, several per chunk, empty ones', () => {
  const messages = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last')];
  const wire = Buffer.concat(messages.map(frameMessage));
  for (const size of [1, 3, 5, 6, 4096, wire.length]) {
    const got: Buffer[] = [];
    const reader = new MessageReader(1 << 20, () => undefined);
    for (let i = 0; i < wire.length; i += size) reader.push(wire.subarray(i, i + size), (m) => got.push(Buffer.from(m)));
    assert.deepEqual(got, messages, `chunks of ${size}`);
    assert.equal(reader.truncated, false);
  }
  const partial = new MessageReader(1 << 20, () => undefined);
  partial.push(wire.subarray(0, 12), () => undefined);
  assert.equal(partial.truncated, true);
});

test('MessageReader refuses a message over its limit from the prefix alone, and decompresses gzip and deflate', () => {
  const reader = new MessageReader(10, () => undefined);
  assert.throws(
    () => reader.push(Buffer.from([0, 0, 0, 0, 11]), () => undefined),
    (e: unknown) => e instanceof WireError && e.code === GrpcCode.RESOURCE_EXHAUSTED && /larger than max \(11 vs\. 10\)/.test(e.message),
  );
  const got: string[] = [];
  new MessageReader(1 << 20, () => 'gzip').push(gzipFrame(Buffer.from('zipped')), (m) => got.push(m.toString()));
  assert.deepEqual(got, ['zipped']);
  assert.throws(
    () => new MessageReader(1 << 20, () => 'br').push(gzipFrame(Buffer.from('x')), () => undefined),
    (e: unknown) => e instanceof WireError && e.code === GrpcCode.UNIMPLEMENTED && /"br"/.test(e.message),
  );
  assert.throws(
    () => new MessageReader(1 << 20, () => 'gzip').push(Buffer.from([1, 0, 0, 0, 2, 1, 2]), () => undefined),
    (e: unknown) => e instanceof WireError && e.code === GrpcCode.INTERNAL,
  );
});

test('grpcTimeout: milliseconds up to 8 digits, then seconds, then hours', () => {
  assert.equal(grpcTimeout(1500), '1500m');
  assert.equal(grpcTimeout(0.2), '1m');
  assert.equal(grpcTimeout(0), '1m');
  assert.equal(grpcTimeout(99_999_999), '99999999m');
  assert.equal(grpcTimeout(100_000_000), '100000S');
  assert.equal(grpcTimeout(1e12), '277778H');
});

test('grpc-message is percent-decoded; grpc-status outside 0-16 is UNKNOWN', () => {
  assert.equal(decodeGrpcMessage('item%20not%20found%3A%20%C3%A9'), 'item not found: é');
  assert.equal(decodeGrpcMessage('100%'), '100%');
  assert.equal(decodeGrpcMessage(undefined), '');
  assert.equal(parseGrpcStatus('5'), GrpcCode.NOT_FOUND);
  assert.equal(parseGrpcStatus('0'), GrpcCode.OK);
  assert.equal(parseGrpcStatus('17'), GrpcCode.UNKNOWN);
  assert.equal(parseGrpcStatus('x'), GrpcCode.UNKNOWN);
  assert.equal(parseGrpcStatus(undefined), undefined);
});

test('statuses for answers without grpc-status: HTTP codes and RST_STREAM codes, as the gRPC docs map them', () => {
  assert.equal(grpcCodeOfHttpStatus(400), GrpcCode.INTERNAL);
  assert.equal(grpcCodeOfHttpStatus(401), GrpcCode.UNAUTHENTICATED);
  assert.equal(grpcCodeOfHttpStatus(403), GrpcCode.PERMISSION_DENIED);
  assert.equal(grpcCodeOfHttpStatus(404), GrpcCode.UNIMPLEMENTED);
  for (const s of [429, 502, 503, 504]) assert.equal(grpcCodeOfHttpStatus(s), GrpcCode.UNAVAILABLE);
  assert.equal(grpcCodeOfHttpStatus(500), GrpcCode.UNKNOWN);
  assert.equal(grpcCodeOfRstCode(0x7), GrpcCode.UNAVAILABLE);
  assert.equal(grpcCodeOfRstCode(0x8), GrpcCode.CANCELLED);
  assert.equal(grpcCodeOfRstCode(0xb), GrpcCode.RESOURCE_EXHAUSTED);
  assert.equal(grpcCodeOfRstCode(0xc), GrpcCode.PERMISSION_DENIED);
  assert.equal(grpcCodeOfRstCode(0x2), GrpcCode.INTERNAL);
});
