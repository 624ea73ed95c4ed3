// A native L7 data plane beside the lab's own mesh: HAProxy (Debian's 2.6), balancing each HTTP/2 stream
// — each gRPC call — over the Service's ready pods, for a user who wants the cost of a proxy written in
// C next to the Node model's. Not Linkerd's balancer: `balance random(2)` draws two servers at random and
// keeps the one serving fewer requests now (HAProxy 2.6 doc/configuration.txt, "balance", 4302-4328;
// src/backend.c get_server_rnd), no latency average. The lab's own mesh stays the faithful model of
// Linkerd's; this one is here to measure.
// HAProxy runs as a child with its own config in a temporary folder. Endpoints reach it through its
// runtime API, without a reload: the backend holds a fixed set of slots (server-template), and each
// ready pod takes one (`set server … addr … port …`, `enable server …`); a pod that left gives its slot
// back (`disable server …`: its streams in flight finish). Its front door is a pod's: at most 1000
// connections, the request headers (the HTTP/2 preface and first HEADERS) within 10 s, a connection with
// nothing to do for 60 s closed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervised, type Exit } from '../../common/supervised.js';
import type { Endpoint } from './endpoints.js';
import type { EndpointSource } from './endpoint-source.js';

export const HAPROXY_INSTALL = 'haproxy is not installed (Debian/Ubuntu: apt-get install haproxy)';
/** Pods the backend can hold at once (the lab runs at most 20 per Deployment). */
export const HAPROXY_SLOTS = 64;

/** Where haproxy is, or undefined: on PATH, or in /usr/sbin (Debian's, which a user's PATH may lack). */
export function findHaproxy(): string | undefined {
  for (const candidate of ['haproxy', '/usr/sbin/haproxy']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

export class HaproxyMesh {
  readonly #dir = mkdtempSync(join(tmpdir(), 'grpc-lb-haproxy-'));
  readonly #haproxy: string;
  readonly #endpoints: EndpointSource;
  #child: Supervised | undefined;
  /** Slot number (1…) of each pod IP in the backend. */
  readonly #slots = new Map<string, { slot: number; endpoint: Endpoint }>();
  /** Runtime API commands, one at a time, in order. */
  #commands: Promise<unknown> = Promise.resolve();
  readonly #onChange = (ready: Endpoint[]) => void this.#apply(ready);

  constructor(haproxy: string, endpoints: EndpointSource) {
    this.#haproxy = haproxy;
    this.#endpoints = endpoints;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Resolves once HAProxy has taken every endpoint change so far. */
  settled(): Promise<void> {
    return this.#commands.then(() => undefined);
  }

  get #socket(): string {
    return join(this.#dir, 'admin.sock');
  }

  /** Starts HAProxy on host:port (0: a free port), gives it the ready pods, resolves with the port. */
  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const bound = port || (await freePort(host));
    writeFileSync(join(this.#dir, 'haproxy.cfg'), this.#config(host, bound));
    const child = new Supervised(this.#haproxy, ['-db', '-f', join(this.#dir, 'haproxy.cfg')]);
    this.#child = child;
    let lastError: string | undefined;
    child.on('line', (line, stream) => {
      if (stream === 'stderr' && line.trim() !== '') lastError = line.trim();
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearInterval(poll);
        reject(new Error(`haproxy did not start: ${why}`));
      };
      const exited = ({ code, signal }: Exit) => fail(lastError ?? `exit ${code ?? signal}`);
      child.once('exit', exited);
      let tries = 0;
      const poll = setInterval(() => {
        // Its runtime API answers once the config is loaded and the listeners are bound.
        this.#run('show info').then(
          () => {
            clearInterval(poll);
            child.off('exit', exited);
            resolve();
          },
          () => {
            if (++tries > 100) fail('not answering after 10 s');
          },
        );
      }, 100);
    });
    await this.#apply(this.#endpoints.list());
    this.#endpoints.on('change', this.#onChange);
    return bound;
  }

  async close(): Promise<void> {
    this.#endpoints.off('change', this.#onChange);
    // A hard stop: -db runs it in the foreground, SIGTERM ends it at once; SIGKILL after 2 s.
    await this.#child?.stop(2000);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #config(host: string, port: number): string {
    return [
      'global',
      `  stats socket ${this.#socket} mode 600 level admin`,
      '  nbthread 1', // one thread, as the Node mesh has one event loop
      '  maxconn 4000',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout http-request 10s',
      '  timeout client 60s',
      '  timeout server 1h', // a gRPC stream may stay quiet for long
      '  timeout tunnel 1h',
      'frontend mesh',
      `  bind ${host}:${port} proto h2`,
      '  maxconn 1000',
      '  default_backend pods',
      'backend pods',
      '  balance random(2)',
      `  server-template pod 1-${HAPROXY_SLOTS} 127.0.0.1:1 proto h2 disabled`,
      '',
    ].join('\n');
  }

  /** Gives each new ready pod a slot and takes the slots of pods that left. */
  #apply(ready: Endpoint[]): Promise<void> {
    const wanted = new Map(ready.map((e) => [e.ip, e]));
    const commands: string[] = [];
    for (const [ip, { slot, endpoint }] of this.#slots) {
      const now = wanted.get(ip);
      if (now && now.address === endpoint.address && now.grpcPort === endpoint.grpcPort) continue;
      this.#slots.delete(ip);
      commands.push(`disable server pods/pod${slot}`);
    }
    const used = new Set([...this.#slots.values()].map((s) => s.slot));
    for (const [ip, endpoint] of wanted) {
      if (this.#slots.has(ip)) continue;
      let slot = 1;
      while (used.has(slot)) slot += 1;
      if (slot > HAPROXY_SLOTS) break; // more pods than slots: the rest wait for a slot
      used.add(slot);
      this.#slots.set(ip, { slot, endpoint });
      commands.push(
        `set server pods/pod${slot} addr ${endpoint.address} port ${endpoint.grpcPort}`,
        `enable server pods/pod${slot}`,
      );
    }
    const done = this.#commands.then(async () => {
      for (const command of commands) await this.#run(command);
    });
    this.#commands = done.catch(() => undefined);
    return done.then(() => undefined);
  }

  /** One command on the runtime API (non-interactive: the answer, then HAProxy closes the connection). */
  #run(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.#socket);
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('error', reject);
      socket.on('end', () => resolve(answer));
      socket.setTimeout(5000, () => socket.destroy(new Error(`haproxy: no answer to "${command}"`)));
      socket.write(`${command}\n`);
    });
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
