import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import { startRedisServer } from '../helpers/redis-with-client.js';
import { eventually } from '../helpers/traffic.js';

const CLI = path.resolve(import.meta.dirname, '../../src/cli.ts');

function gatehouse(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'silent' } });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return { child, stderr: () => stderr, exit: once(child, 'exit') as Promise<[number | null, string | null]> };
}

test('gatehouse register keeps a target registered with heartbeats and removes it on SIGTERM', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.close());
  const target = 'http://127.0.0.1:3001';
  const run = gatehouse(['register', '--redis', redis.url, '--key', 'services:orders', '--url', target, '--ttl', '1s', '--weight', '3']);
  t.after(() => run.child.kill('SIGKILL'));
  const member = JSON.stringify({ url: target, weight: 3 });

  await eventually('the member is registered', async () => (await redis.client.zscore('services:orders', member)) !== null);
  const first = Number(await redis.client.zscore('services:orders', member));
  assert.ok(first > Date.now() - 1000);
  // The heartbeat renews the expiry (every ttl/3), so the entry outlives its first ttl.
  await eventually('the expiry is renewed', async () => Number(await redis.client.zscore('services:orders', member)) > first);

  run.child.kill('SIGTERM');
  const [code] = await run.exit;
  assert.equal(code, 0, run.stderr());
  assert.equal(await redis.client.zscore('services:orders', member), null);
});
