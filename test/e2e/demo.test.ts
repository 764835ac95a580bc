import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { closedPort } from '../helpers/upstream.js';

const root = path.resolve(import.meta.dirname, '../..');

test('npm run demo starts the services and the gateway, and every printed curl line works as printed', async (t) => {
  const [port, admin, base] = [await closedPort(), await closedPort(), 20000 + Math.floor(Math.random() * 20000)];
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], {
    cwd: root,
    env: { ...process.env, DEMO_PORT: String(port), GATEHOUSE_ADMIN_PORT: String(admin), DEMO_SERVICES_BASE: String(base), GATEHOUSE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes('demo ready')) {
        clearInterval(check);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      reject(new Error(`demo exited with ${code}: ${out}`));
    });
  });
  const curls = out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('curl '));
  assert.ok(curls.length >= 6, out);
  for (const line of curls) {
    const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    if (line.includes(' -i ')) {
      // the two lines that show refusals: a method the route does not take, a missing token
      assert.match(r.stdout, line.includes('DELETE') ? /^HTTP\/1\.1 405 / : /^HTTP\/1\.1 401 [\s\S]*www-authenticate: Bearer/i, line);
      continue;
    }
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(body.code, undefined, `${line} answered a problem: ${r.stdout}`);
  }
  const me = spawnSync('bash', ['-c', curls.find((c) => c.includes('/api/me') && c.includes('Bearer'))!], { encoding: 'utf8' });
  assert.equal((JSON.parse(me.stdout) as { seenUserHeader: string }).seenUserHeader, '1', 'the JWT sub reached the service as x-user-id');
  const post = spawnSync('bash', ['-c', curls.find((c) => c.includes('POST'))!], { encoding: 'utf8' });
  assert.equal((JSON.parse(post.stdout) as { tenant: string }).tenant, 'acme');
  child.kill('SIGTERM');
});
