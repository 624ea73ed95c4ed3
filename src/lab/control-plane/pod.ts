// A pod, as the kubelet runs it: a real out/server process with the environment the kubelet gives
// (kubelet-env.ts), listening at its own pod IP on the manifest's container ports, probed for
// readiness the way the manifest says (gRPC health or HTTP GET), its output kept for `kubectl logs`.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { get } from 'node:http';
import { createInterface } from 'node:readline';
import { parseListening } from '../../common/output.js';
import type { Endpoint } from './endpoints.js';
import type { Probe } from './manifest.js';

export type PodPhase = 'Pending' | 'Running' | 'Terminating' | 'Gone';

interface PodEvents {
  ready: [];
  unready: [];
  exit: [code: number | null, signal: NodeJS.Signals | null];
}

export interface PodSpec {
  serverBin: string;
  env: Record<string, string>;
  /** Where the pod listens: at its own pod IP, on the ports its env gives (the manifest's), or, where
   *  the machine has only 127.0.0.1, there on ports of its own, read from the server's "listening" line. */
  ownAddress: boolean;
  readiness: Probe | undefined;
}

const LOG_LINES = 1000;
const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');
type HealthCheck = grpc.Client & {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: { status: string }) => void,
  ): void;
};

export class Pod extends EventEmitter<PodEvents> {
  phase: PodPhase = 'Pending';
  ready = false;
  endpoint: Endpoint | undefined;
  readonly startedAt = new Date();
  /** The last line the server wrote on stderr: why it died, if it did. */
  lastError = '';
  readonly #child: ChildProcess;
  readonly #log: string[] = [];
  readonly #spec: PodSpec;
  #probe: NodeJS.Timeout | undefined;
  #health: HealthCheck | undefined;
  #failures = 0;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly ip: string,
    spec: PodSpec,
  ) {
    super();
    this.#spec = spec;
    const where = spec.ownAddress ? ['--host', ip] : ['--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0'];
    this.#child = spawn(process.execPath, [spec.serverBin, ...where, '--exit-on-stdin-close'], {
      env: { PATH: process.env.PATH ?? '', ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
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
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      this.#keep(line);
      if (this.endpoint) return;
      const listening = parseListening(line);
      if (listening) {
        this.endpoint = {
          ip,
          address: listening.http.host,
          httpPort: listening.http.port,
          grpcPort: listening.grpc.port,
        };
        this.phase = 'Running';
        this.#startProbing();
      }
    });
    createInterface({ input: this.#child.stderr! }).on('line', (line) => {
      this.#keep(line);
      // the server's own one-line errors, or the message line of a Node.js crash
      if (/^(server: |\w*Error\b)/.test(line) || !this.lastError) this.lastError = line;
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** What the container printed, for `kubectl logs`. */
  logs(): string {
    return this.#log.map((line) => `${line}\n`).join('');
  }

  /** Graceful stop, as the kubelet does on deletion: SIGTERM (the server drains), SIGKILL after graceMs. */
  terminate(graceMs: number): Promise<void> {
    if (this.phase !== 'Gone') {
      this.phase = 'Terminating';
      this.#stopProbing();
      this.#child.kill('SIGTERM');
      const force = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
      void this.exited.then(() => clearTimeout(force));
    }
    return this.exited;
  }

  #keep(line: string): void {
    this.#log.push(line);
    if (this.#log.length > LOG_LINES) this.#log.shift();
  }

  #startProbing(): void {
    const probe = this.#spec.readiness;
    if (!probe) {
      this.#probed(true); // no readiness probe: ready once running, as Kubernetes has it
      return;
    }
    const run = () => {
      if (this.phase !== 'Running' || !this.endpoint) return;
      // The probe's port is the container's gRPC or HTTP port (where the pod has no IP of its own,
      // the port it got instead).
      const { address } = this.endpoint;
      if (probe.kind === 'grpc') this.#probeGrpc(address, this.endpoint.grpcPort, probe.timeoutMs);
      else this.#probeHttp(address, this.endpoint.httpPort, probe.path, probe.timeoutMs);
    };
    run();
    this.#probe = setInterval(run, probe.periodMs);
  }

  #probeGrpc(address: string, port: number, timeoutMs: number): void {
    this.#health ??= new HealthClient(
      `${address}:${port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as HealthCheck;
    this.#health.check({ service: '' }, { deadline: Date.now() + timeoutMs }, (error, reply) =>
      this.#probed(!error && reply?.status === 'SERVING'),
    );
  }

  #probeHttp(address: string, port: number, path: string, timeoutMs: number): void {
    const request = get({ host: address, port, path, agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      this.#probed((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 400);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => this.#probed(false));
  }

  #stopProbing(): void {
    clearInterval(this.#probe);
    this.#health?.close();
  }

  #probed(passed: boolean): void {
    this.#failures = passed ? 0 : this.#failures + 1;
    const threshold = this.#spec.readiness?.failureThreshold ?? 1;
    const ready = passed || (this.ready && this.#failures < threshold);
    if (this.phase !== 'Running' || ready === this.ready) return;
    this.ready = ready;
    this.emit(ready ? 'ready' : 'unready');
  }
}
