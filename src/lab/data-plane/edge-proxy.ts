// Balancing at the edge: a real L7 proxy, nginx, in front of the pods as an ingress controller puts it.
// `grpc_pass` to an upstream of the ready pod IPs (gRPC port), round-robin per call; the config is
// written anew and nginx reloaded (SIGHUP) on every endpoint change — how plain nginx follows
// endpoints (ingress-nginx avoids most such reloads with a Lua balancer that takes endpoint lists
// at run time). nginx runs as a child with its own prefix, config, pid file and logs in a temporary
// folder; a port above 1024 needs no root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lifeline } from '../../common/supervised.js';
import { endpointsSeen } from '../../common/trace.js';
import type { Endpoint, Endpoints } from './endpoints.js';

export const NGINX_INSTALL = 'nginx is not installed (Debian/Ubuntu: apt-get install nginx)';

/** Where nginx is, or undefined: on PATH, or in /usr/sbin (Debian's, which a user's PATH may lack). */
export function findNginx(): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

export class EdgeProxy {
  readonly #dir = mkdtempSync(join(tmpdir(), 'grpc-lb-edge-'));
  readonly #endpoints: Endpoints;
  readonly #nginx: string;
  #child: ChildProcess | undefined;
  #lifeline: ChildProcess | undefined;
  #port = 0;
  readonly #onChange = (ready: Endpoint[]) => this.#reload(ready);

  constructor(nginx: string, endpoints: Endpoints) {
    this.#nginx = nginx;
    this.#endpoints = endpoints;
  }

  /** The master's pid; its worker is its child. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts nginx on 127.0.0.1:`port` (0: a free port) and resolves with the port once it answers. */
  async listen(port: number): Promise<number> {
    this.#port = port || (await freePort());
    for (const dir of ['logs', 'temp']) mkdirSync(join(this.#dir, dir), { recursive: true });
    this.#write(this.#endpoints.list());
    const child = spawn(
      this.#nginx,
      [
        '-p',
        this.#dir,
        '-c',
        join(this.#dir, 'nginx.conf'),
        '-e',
        join(this.#dir, 'logs/error.log'),
        '-g',
        'daemon off;',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.#child = child;
    // nginx reads no stdin: if the lab is killed, this takes nginx down with it.
    if (child.pid !== undefined) this.#lifeline = lifeline(child.pid);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearInterval(poll);
        reject(new Error(`nginx did not start: ${why}`));
      };
      child.once('error', (error) => fail(error.message));
      child.once('exit', (code) => fail(stderr.trim().split('\n').at(-1) ?? `exit ${code}`));
      let tries = 0;
      const poll = setInterval(() => {
        // A connection that opens: nginx listens. (Binding the port to test it could take it from nginx.)
        const probe = connect(this.#port, '127.0.0.1', () => {
          probe.destroy();
          clearInterval(poll);
          child.removeAllListeners('exit');
          resolve();
        });
        probe.on('error', () => probe.destroy());
        if (++tries > 100) fail('not listening after 10 s');
      }, 100);
    });
    this.#endpoints.on('change', this.#onChange);
    return this.#port;
  }

  async close(): Promise<void> {
    this.#endpoints.off('change', this.#onChange);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT'); // graceful: calls in flight finish
      const force = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(force);
    }
    this.#lifeline?.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #reload(ready: Endpoint[]): void {
    this.#write(ready);
    this.#child?.kill('SIGHUP'); // the master reads the new config, starts new workers, retires the old ones gracefully
    endpointsSeen(
      'edge',
      ready.map((endpoint) => endpoint.ip),
    );
  }

  #write(ready: Endpoint[]): void {
    const temp = (name: string) => `${name}_temp_path ${join(this.#dir, 'temp', name)};`;
    // No ready pod: an upstream still needs a server; a `down` one makes nginx answer 502, which a
    // gRPC client sees as UNAVAILABLE.
    const servers =
      ready.length > 0 ? ready.map((e) => `    server ${e.address}:${e.grpcPort};`) : ['    server 127.0.0.1:1 down;'];
    writeFileSync(
      join(this.#dir, 'nginx.conf'),
      [
        'worker_processes 1;',
        `pid ${join(this.#dir, 'nginx.pid')};`,
        `error_log ${join(this.#dir, 'logs/error.log')} warn;`,
        'events { worker_connections 1024; }',
        'http {',
        '  access_log off;',
        `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
        '  upstream pods {',
        ...servers,
        '    keepalive 32;',
        '  }',
        '  server {',
        `    listen 127.0.0.1:${this.#port} http2;`,
        '    location / { grpc_pass grpc://pods; }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
