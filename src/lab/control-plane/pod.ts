// A pod: a real out/server process with its own pod IP (through POD_IP), listening on loopback,
// and a kubelet-like readiness probe on GET /health.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { get } from 'node:http';
import type { Endpoint } from './endpoints.js';

export type PodPhase = 'Pending' | 'Running' | 'Terminating' | 'Gone';

interface PodEvents {
  ready: [];
  unready: [];
  exit: [code: number | null, signal: NodeJS.Signals | null];
}

const PROBE_PERIOD_MS = 500;
const PROBE_TIMEOUT_MS = 1000;
/** As Kubernetes' default: one success makes a pod ready, three failures in a row unready. */
const FAILURE_THRESHOLD = 3;

export class Pod extends EventEmitter<PodEvents> {
  phase: PodPhase = 'Pending';
  ready = false;
  endpoint: Endpoint | undefined;
  /** The last line the server wrote on stderr: why it died, if it did. */
  lastError = '';
  readonly #child: ChildProcess;
  #probe: NodeJS.Timeout | undefined;
  #failures = 0;
  readonly exited: Promise<void>;

  /** `env` is what the kubelet gives the container (see kubelet-env.ts); nothing of the lab's own. */
  constructor(
    readonly name: string,
    readonly ip: string,
    serverBin: string,
    env: Record<string, string>,
  ) {
    super();
    this.#child = spawn(
      process.execPath,
      // Pods share 127.0.0.1 here, so each listens on ports of its own (the command line wins over env).
      [serverBin, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--exit-on-stdin-close'],
      { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.exited = new Promise((resolve) =>
      this.#child.on('exit', (code, signal) => {
        this.#stopProbing();
        const wasReady = this.ready;
        this.ready = false;
        this.phase = 'Gone';
        if (wasReady) this.emit('unready');
        this.emit('exit', code, signal);
        resolve();
      }),
    );
    let seen = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.endpoint) return;
      seen += chunk;
      const match = /http=127\.0\.0\.1:(\d+) grpc=127\.0\.0\.1:(\d+)/.exec(seen);
      if (match) {
        this.endpoint = { ip, httpPort: Number(match[1]), grpcPort: Number(match[2]) };
        this.phase = 'Running';
        this.#startProbing();
      }
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = chunk.trim().split('\n');
      // the server's own one-line errors, or the message line of a Node.js crash
      this.lastError = lines.find((line) => /^(server: |\w*Error\b)/.test(line)) ?? lines.at(-1) ?? this.lastError;
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Graceful stop, as the kubelet does on deletion: SIGTERM (the server drains), SIGKILL after graceMs. */
  terminate(graceMs = 10_000): Promise<void> {
    if (this.phase !== 'Gone') {
      this.phase = 'Terminating';
      this.#stopProbing();
      this.#child.kill('SIGTERM');
      const force = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
      void this.exited.then(() => clearTimeout(force));
    }
    return this.exited;
  }

  #startProbing(): void {
    const probe = () => {
      if (!this.endpoint || this.phase !== 'Running') return;
      const request = get(
        { host: '127.0.0.1', port: this.endpoint.httpPort, path: '/health', agent: false, timeout: PROBE_TIMEOUT_MS },
        (response) => {
          response.resume();
          this.#probed(response.statusCode === 200);
        },
      );
      request.on('timeout', () => request.destroy());
      request.on('error', () => this.#probed(false));
    };
    probe();
    this.#probe = setInterval(probe, PROBE_PERIOD_MS);
  }

  #stopProbing(): void {
    clearInterval(this.#probe);
  }

  #probed(passed: boolean): void {
    this.#failures = passed ? 0 : this.#failures + 1;
    const ready = passed || (this.ready && this.#failures < FAILURE_THRESHOLD);
    if (this.phase !== 'Running' || ready === this.ready) return;
    this.ready = ready;
    this.emit(ready ? 'ready' : 'unready');
  }
}
