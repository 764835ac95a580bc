/**
 * nginx as a reverse-proxy peer: 1 worker, upstream keepalive, config generated in a temp dir
 * and run in the foreground (`daemon off`) on a free port. The system nginx config is never read.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { CORE, freePort, hasCommand, start } from './procs.js';

export const NGINX = ['/usr/sbin/nginx', 'nginx'].find((c) => hasCommand(c));

export async function startNginx(dir: string, upstreamPort: number): Promise<{ child: ChildProcess; port: number }> {
  if (!NGINX) throw new Error('nginx is not installed');
  const port = await freePort();
  const prefix = path.join(dir, 'nginx');
  await mkdir(path.join(prefix, 'tmp'), { recursive: true });
  const conf = `worker_processes 1;
error_log ${prefix}/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  keepalive_requests 1000000;
  upstream origin { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`;
  const file = path.join(prefix, 'nginx.conf');
  await writeFile(file, conf);
  const child = start(NGINX, ['-p', prefix, '-c', file, '-g', 'daemon off;'], { core: CORE.proxy, stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}`);
    const up = await new Promise<boolean>((resolve) => http.get(`http://127.0.0.1:${port}/`, (res) => (res.resume(), resolve(true))).on('error', () => resolve(false)));
    if (up) return { child, port };
    await sleep(50);
  }
  throw new Error('nginx did not come up');
}
