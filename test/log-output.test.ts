import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { streamOutput } from '../src/log-output.js';

const ROOT = new URL('..', import.meta.url);

/** A node process running `script` from the project root; stdout is a pipe unless a file descriptor is given. */
function runScript(script: string, stdout?: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', stdout ?? 'pipe', 'pipe'] });
  return { child, stdout: child.stdout!, stderr: child.stderr! };
}

test('stdout that is a pipe is written as a stream; a file goes through sonic-boom', async () => {
  const script = `import { stdoutOutput } from './src/log-output.ts'; process.stderr.write(stdoutOutput().kind);`;
  const piped = runScript(script);
  let kind = '';
  piped.stderr.on('data', (d: Buffer) => (kind += d.toString()));
  await once(piped.child, 'exit');
  assert.equal(kind, 'stream');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-log-'));
  try {
    const fd = openSync(path.join(dir, 'out.log'), 'w');
    const toFile = runScript(script, fd);
    closeSync(fd);
    let fileKind = '';
    toFile.stderr.on('data', (d: Buffer) => (fileKind += d.toString()));
    await once(toFile.child, 'exit');
    assert.equal(fileKind, 'file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every line reaches a pipe that is read late, in order, when the process waits for logsWritten before exiting', async () => {
  const script = `
    import { createLogger, logsWritten } from './src/logger.ts';
    const log = createLogger('info');
    for (let i = 0; i < 5000; i++) log.info({ i }, 'line');
    await logsWritten(log, 10000);
    process.exit(0);
  `;
  const { child, stdout } = runScript(script);
  // Nothing is read for a while: the pipe (64 KiB) fills and the rest (~400 KiB) waits in the child.
  stdout.pause();
  setTimeout(() => stdout.resume(), 500);
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const ended = once(stdout, 'end');
  const [code] = (await once(child, 'exit')) as [number];
  await ended;
  assert.equal(code, 0);
  const seen = out.trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
  assert.equal(seen.length, 5000);
  assert.ok(seen.every((v, n) => v === n), 'in order');
});

test('a pipe whose reader left stops taking lines; the process carries on', async () => {
  const script = `
    import { createLogger } from './src/logger.ts';
    const log = createLogger('info');
    let n = 0;
    const t = setInterval(() => { for (let i = 0; i < 200; i++) log.info({ n: n++ }, 'line'); }, 5);
    setTimeout(() => { clearInterval(t); process.stderr.write('alive ' + n); process.exit(0); }, 600);
  `;
  const { child, stdout, stderr } = runScript(script);
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdout.once('data', () => stdout.destroy());
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0, err);
  assert.match(err, /^alive \d+$/);
});

/** A real Writable whose writes complete only when `release` is called. */
function heldWritable() {
  const held: (() => void)[] = [];
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string, _enc, cb) {
      chunks.push(chunk);
      held.push(cb);
    },
  });
  const release = () => {
    for (const cb of held.splice(0)) cb();
  };
  return { stream, chunks, release };
}

test('a reader that falls behind by more than the backlog loses whole batches, and is told how many lines once it reads again', async () => {
  const { stream, chunks, release } = heldWritable();
  const out = streamOutput(stream, 40);
  out.write('{"a":1}\n{"a":2}\n'); // nothing waiting: written (16 bytes)
  out.write('{"a":3}\n{"a":4}\n{"a":5}\n'); // 16 bytes waiting, under the bound: queued
  out.write('{"a":6}\n'); // 40 waiting, not over it: queued
  out.write('{"a":7}\n{"a":8}\n'); // 48 waiting, over it: dropped
  out.write('{"a":9}\n'); // dropped
  for (let i = 0; i < 3; i++) {
    release();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(chunks.join(''), '{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n{"a":5}\n{"a":6}\n');
  out.write('{"a":10}\n');
  const notice = JSON.parse(chunks.at(-1)!.split('\n')[0]!) as { level: number; dropped: number; msg: string };
  assert.equal(notice.level, 40);
  assert.equal(notice.dropped, 3);
  assert.match(notice.msg, /dropped/);
  assert.ok(chunks.at(-1)!.endsWith('\n{"a":10}\n'));
});

test('drained resolves once the writes are done, or after its wait when they never are', async () => {
  const { stream, release } = heldWritable();
  const out = streamOutput(stream);
  await out.drained(10); // nothing in flight
  out.write('x\n');
  let done = false;
  const waiting = out.drained(60_000).then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  release();
  await waiting;
  assert.equal(done, true);

  out.write('y\n'); // never released: the wait ends anyway
  await out.drained(50);
});
