// Another floor: nginx as a reverse proxy in front of the same simulator (when an `nginx` binary
// is on the PATH; skipped, saying so, when not: `apt-get install nginx-light`). One process
// (`master_process off`), so its CPU per request is read from the process the bench started, as
// for the Node servers; upstream keep-alive as the bare proxy's undici Pool has it; no access log.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/redis-server.js';
import type { Child } from '../processes/spawn.js';
import { childTarget, ScenarioSkipped, type Scenario } from './types.js';
import { UPSTREAM_KEY } from './workload.js';

const START_CEILING_MS = 30_000;

function nginxConf(dir: string, port: number, upstream: URL): string {
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  return `worker_processes 1;
master_process off;
daemon off;
error_log stderr error;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 4096; }
http {
  access_log off;
  # The load generator keeps its connections for the whole run (nginx closes one after 1,000 requests by default).
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  upstream simulator { server ${upstream.host}; keepalive 64; keepalive_requests 1000000000; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://simulator;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export const nginxProxy: Scenario = {
  id: 'nginx',
  label: 'nginx',
  async start(env) {
    const version = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
    if (version.error) throw new ScenarioSkipped('no nginx binary on the PATH (apt-get install nginx-light)');
    const dir = join(env.tmpDir, 'nginx');
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConf(dir, port, new URL(env.upstreamUrl)));
    const child = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + START_CEILING_MS;
    while (!(await listening(port))) {
      if (child.exitCode !== null) throw new Error(`bench: nginx exited with ${child.exitCode} at start`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`bench: nginx did not listen on ${port} within ${START_CEILING_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGQUIT'); // graceful
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    };
    const asChild = { name: 'nginx', pid: child.pid!, url: `http://127.0.0.1:${port}`, stop } as Child;
    const shown = (version.stderr || version.stdout).trim().replace(/^nginx version: /, '');
    return childTarget(asChild, env, { authorization: `Bearer ${UPSTREAM_KEY}` }, { notes: [`${shown}, one process, upstream keep-alive 64, no access log`] });
  },
};
