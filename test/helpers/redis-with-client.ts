/** A real redis-server of its own on a free loopback port (no persistence), killed at the end. */
import { Redis } from 'ioredis';
import { closedPort } from './upstream.js';
import { spawnProcess, waitUntil } from './spawned.js';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:PORT */
  url: string;
  /** A client for the test to look and poke with (closed by close()). */
  client: Redis;
  close(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await closedPort();
  const proc = spawnProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  await waitUntil(
    'redis-server',
    async () => {
      if (client.status !== 'ready') await client.connect().catch(() => undefined);
      return (await client.ping()) === 'PONG';
    },
    proc,
  );
  return {
    port,
    url,
    client,
    close: async () => {
      client.disconnect();
      await proc.kill();
    },
  };
}
