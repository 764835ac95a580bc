import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import pino from 'pino';
import { isoTime, LineBatch, utf8Bytes } from '../src/logger.js';

test('lines are gathered up to the limit and written in one call; a line that would pass the limit starts the next batch; flush writes the rest, and nothing when empty', () => {
  const writes: string[] = [];
  const batch = new LineBatch({ write: (t: string) => writes.push(t) }, 20);
  batch.write('0123456789\n');
  assert.deepEqual(writes, []);
  batch.write('abcdefgh\n'); // 20: the limit reached, written
  assert.deepEqual(writes, ['0123456789\nabcdefgh\n']);
  batch.write('0123456789\n');
  batch.write('abcdefghij\n'); // would make 22: the first goes alone
  assert.deepEqual(writes.slice(1), ['0123456789\n']);
  batch.write('tail\n');
  batch.flush();
  batch.flush();
  assert.deepEqual(writes.slice(2), ['abcdefghij\ntail\n']);
});

test('a line longer than the limit is written alone; measured in UTF-8 bytes, no write passes the limit', () => {
  const writes: string[] = [];
  const batch = new LineBatch({ write: (t: string) => writes.push(t) }, 16, utf8Bytes);
  batch.write('ab\n');
  batch.write(`${'x'.repeat(30)}\n`);
  assert.deepEqual(writes, ['ab\n', `${'x'.repeat(30)}\n`]);
  writes.length = 0;
  // 'é' is 2 bytes: 5 of these lines are 15 characters but 20 bytes.
  for (let i = 0; i < 5; i++) batch.write('éé\n');
  batch.flush();
  assert.ok(writes.every((w) => Buffer.byteLength(w) <= 16), JSON.stringify(writes));
  assert.equal(writes.join(''), 'éé\n'.repeat(5));
});

test('pino writes through the batch unchanged', () => {
  const writes: string[] = [];
  const batch = new LineBatch({ write: (t: string) => writes.push(t) });
  const log = pino({ base: { pid: 1 }, timestamp: false }, batch).child({ reqId: 'r1' });
  log.info({ route: 'a', status: 200 }, 'request');
  log.warn('second');
  assert.deepEqual(writes, []);
  batch.flush();
  assert.equal(writes.join(''), '{"level":30,"pid":1,"reqId":"r1","route":"a","status":200,"msg":"request"}\n{"level":40,"pid":1,"reqId":"r1","msg":"second"}\n');
});

test('the process logger writes a line within its flush interval and whatever is left when the process exits', async () => {
  const script = `
    import { createLogger } from './src/logger.ts';
    const log = createLogger('info');
    log.info('early');
    setTimeout(() => { process.stderr.write('tick\\n'); setTimeout(() => { log.info('at exit'); process.exit(0); }, 50); }, 300);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let atTick = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', () => (atTick ||= out));
  await once(child, 'exit');
  assert.match(atTick, /"msg":"early"/, 'the first line went out before 300 ms, without waiting for 4 KiB');
  assert.deepEqual(out.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg), ['early', 'at exit']);
});

test('the timestamp reads as pino isoTime does', () => {
  const at = Date.UTC(2026, 11, 2, 6, 45, 1, 7);
  assert.equal(isoTime(at), ',"time":"2026-12-02T06:45:01.007Z"');
  assert.equal(isoTime(at), isoTime(at));
  assert.equal(isoTime(at + 1), ',"time":"2026-12-02T06:45:01.008Z"');
  // pino's own isoTime has the same shape.
  assert.equal(pino.stdTimeFunctions.isoTime().replace(/\d/g, '0'), isoTime().replace(/\d/g, '0'));
});
