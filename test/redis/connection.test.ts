import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { connectRedis } from '../../src/redis/connection.js';
import { RedisUnavailableError } from '../../src/redis/shared-redis.js';
import { startRedis } from '../helpers/redis-server.js';
import { closedPort } from '../helpers/upstream.js';

function recordingLogger() {
  const lines: { msg: string; level: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { msg: string; level: number });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), messages: () => lines.map((l) => l.msg) };
}

async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`never: ${what}`);
}

test('keys are keyPrefix + {tag} + rest', async (t) => {
  const port = await closedPort();
  const redis = connectRedis({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'gh:', commandTimeout: 50, onError: 'allow' }, pino({ level: 'silent' }));
  t.after(() => redis.close());
  assert.equal(redis.key('orders:ip=1.2.3.4', ':rl-fixed'), 'gh:{orders:ip=1.2.3.4}:rl-fixed');
  assert.equal(redis.key('x'), 'gh:{x}');
});

test('a stopped (SIGSTOP) Redis: commands reject with RedisUnavailableError instead of hanging, and work after SIGCONT', async (t) => {
  const server = await startRedis();
  t.after(() => server.close());
  const redis = connectRedis({ url: server.url, keyPrefix: 'gh:', commandTimeout: 100, onError: 'allow' }, pino({ level: 'silent' }));
  t.after(() => redis.close());
  assert.equal(await redis.waitUntilReady(5000), true);
  await redis.set('gh:a', 'one', 60_000);
  server.pause();
  t.after(() => server.resume());
  await assert.rejects(redis.getBuffer('gh:a'), (err: Error) => err instanceof RedisUnavailableError && /did not answer GET within 100ms/.test(err.message));
  assert.equal(redis.healthy, false);
  server.resume();
  await eventually('GET works again', async () => (await redis.getBuffer('gh:a').catch(() => null))?.toString() === 'one');
  assert.equal(redis.healthy, true);
});

test('a killed Redis: commands fail at once, the client reconnects by itself when it returns, and both are logged', async (t) => {
  const server = await startRedis();
  t.after(() => server.close());
  const { logger, messages } = recordingLogger();
  const redis = connectRedis({ url: server.url, keyPrefix: 'gh:', commandTimeout: 100, onError: 'deny' }, logger);
  t.after(() => redis.close());
  assert.equal(await redis.waitUntilReady(5000), true);
  await server.kill();
  await eventually('the loss is noticed', () => !redis.healthy || messages().includes('redis connection lost; reconnecting'));
  await assert.rejects(redis.set('gh:b', 'x', 1000), RedisUnavailableError);
  await server.start();
  await eventually('reconnected', () => redis.reconnects === 1);
  await redis.set('gh:b', 'x', 60_000);
  assert.equal(server.cli('get', 'gh:b').trim(), 'x');
  assert.ok(messages().includes('redis connection lost; reconnecting'));
  assert.ok(messages().includes('redis connection recovered'));
  assert.ok(messages().includes('redis unavailable; applying redis.onError'));
});

test('EVAL falls back from EVALSHA when the node has not seen the script (after a restart)', async (t) => {
  const server = await startRedis();
  t.after(() => server.close());
  const redis = connectRedis({ url: server.url, keyPrefix: 'gh:', commandTimeout: 500, onError: 'allow' }, pino({ level: 'silent' }));
  t.after(() => redis.close());
  await redis.waitUntilReady(5000);
  const script = "return redis.call('INCR', KEYS[1])";
  assert.equal(await redis.eval(script, ['gh:n'], []), 1);
  server.cli('script', 'flush');
  assert.equal(await redis.eval(script, ['gh:n'], []), 2);
});
