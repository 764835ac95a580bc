import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
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
  const out = streamOutput(stream, { maxBacklog: 40 });
  const nextTurn = () => new Promise((r) => setImmediate(r));
  out.write('{"a":1}\n{"a":2}\n'); // nothing in flight: handed to the stream
  out.write('{"a":3}\n{"a":4}\n{"a":5}\n'); // waits (24 bytes waiting)
  out.write('{"a":6}\n{"a":7}\n'); // 24 waiting, under the bound: waits too (40)
  out.write('{"a":8}\n'); // 40 waiting, not over it: waits (48)
  out.write('{"a":9}\n{"a":10}\n'); // 48 waiting, over it: dropped
  out.write('{"a":11}\n'); // dropped
  assert.deepEqual(chunks, ['{"a":1}\n{"a":2}\n'], 'one write at a time');
  for (let i = 0; i < 4; i++) {
    release();
    await nextTurn();
  }
  assert.deepEqual(chunks, ['{"a":1}\n{"a":2}\n', '{"a":3}\n{"a":4}\n{"a":5}\n', '{"a":6}\n{"a":7}\n', '{"a":8}\n'], 'each batch its own write, in order');
  out.write('{"a":12}\n');
  release();
  await nextTurn();
  // The notice is a write of its own, so the batch after it keeps its size.
  const notice = JSON.parse(chunks.at(-2)!) as { level: number; dropped: number; msg: string };
  assert.equal(notice.level, 40);
  assert.equal(notice.dropped, 3);
  assert.match(notice.msg, /dropped/);
  assert.equal(chunks.at(-1), '{"a":12}\n');
});

test('processes sharing a pipe never cut into one another’s lines, even when the reader falls behind', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-log-'));
  const script = path.join(dir, 'writer.mjs');
  writeFileSync(
    script,
    `import { createLogger, logsWritten } from ${JSON.stringify(new URL('../src/logger.ts', import.meta.url).href)};
    const log = createLogger('info');
    const w = process.argv[2];
    const pad = 'x'.repeat(180);
    let n = 0;
    const t = setInterval(() => {
      for (let i = 0; i < 300; i++) log.info({ w, n: n++, pad }, 'line');
      if (n >= 15000) { clearInterval(t); void logsWritten(log, 20000).then(() => process.exit(0)); }
    }, 1);`,
  );
  const node = (id: string) => `"${process.execPath}" --import tsx "${script}" ${id}`;
  const child = spawn('sh', ['-c', `${node('A')} & ${node('B')} & wait`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let rest = '';
  const seen: Record<string, number> = { A: 0, B: 0 };
  let broken = 0;
  let outOfOrder = 0;
  child.stdout.on('data', (d: Buffer) => {
    rest += d.toString();
    let i;
    while ((i = rest.indexOf('\n')) !== -1) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      try {
        const { w, n } = JSON.parse(line) as { w: string; n: number };
        if (n !== seen[w]) outOfOrder++;
        seen[w] = n + 1;
      } catch {
        broken++;
      }
    }
    // A slow reader: the pipe fills, and both writers wait for room at once.
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 2);
  });
  try {
    const ended = once(child.stdout, 'end');
    await once(child, 'exit');
    await ended;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(broken, 0, 'no line cut by the other writer');
  assert.equal(outOfOrder, 0, 'each writer’s lines in order');
  assert.deepEqual(seen, { A: 15000, B: 15000 });
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
