/** A real etcd (v3) on free loopback ports, with a throwaway data dir, and a tiny v3 JSON-gateway client for tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { closedPort } from './upstream.js';
import { spawnProcess, waitUntil, type Spawned } from './spawned.js';

export interface EtcdServer {
  /** http://127.0.0.1:PORT, for `etcd.endpoints`. */
  endpoint: string;
  put(key: string, value: string): Promise<void>;
  del(key: string): Promise<void>;
  /** Kills etcd (the data dir stays); `start` brings it back on the same ports. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export async function startEtcd(): Promise<EtcdServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-etcd-'));
  const clientPort = await closedPort();
  const peerPort = await closedPort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let proc: Spawned | undefined;

  const call = async (api: string, body: object) => {
    const res = await fetch(`${endpoint}/v3/${api}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`etcd ${api}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const stop = async () => {
    await proc?.kill();
    proc = undefined;
  };
  const start = async () => {
    proc = spawnProcess('etcd', [
      '--name=test',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=test=${peer}`,
      '--log-level=error',
    ]);
    await waitUntil('etcd', async () => (await fetch(`${endpoint}/health`)).ok, proc);
  };
  await start();
  return {
    endpoint,
    put: (key, value) => call('kv/put', { key: b64(key), value: b64(value) }),
    del: (key) => call('kv/deleterange', { key: b64(key) }),
    stop,
    start,
    close: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
