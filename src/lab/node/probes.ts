// The kubelet's probes (pkg/kubelet/prober): gRPC health (grpc.health.v1.Health/Check must answer
// SERVING), HTTP GET (a status from 200 to 399) and TCP (a connection opens), each given timeoutSeconds,
// run every periodSeconds after initialDelaySeconds; a result flips the probe's state only after
// successThreshold successes or failureThreshold failures in a row. Readiness takes a pod in and out of
// the endpoints; liveness restarts its container.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ProbeSpec } from '../controllers/objects.js';

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');
type HealthCheck = grpc.Client & {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: { status: string }) => void,
  ): void;
};

/** Where the probe's port really is (the pod network's dial) for a container port. */
export type Dial = (port: number) => { host: string; port: number };

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export function timingOf(spec: ProbeSpec): ProbeTiming {
  return {
    initialDelayMs: (spec.initialDelaySeconds ?? 0) * 1000,
    periodMs: (spec.periodSeconds ?? 10) * 1000,
    timeoutMs: (spec.timeoutSeconds ?? 1) * 1000,
    successThreshold: spec.successThreshold ?? 1,
    failureThreshold: spec.failureThreshold ?? 3,
  };
}

/** Runs one probe spec against one container until stopped; reports each change of its verdict. */
export class Prober {
  readonly #spec: ProbeSpec;
  readonly #timing: ProbeTiming;
  readonly #dial: Dial;
  readonly #ports: Record<string, number>;
  readonly #onChange: (passing: boolean) => void;
  #timer: NodeJS.Timeout | undefined;
  #health: HealthCheck | undefined;
  #passing: boolean;
  #successes = 0;
  #failures = 0;
  #stopped = false;

  /** `initial`: the verdict before the first result (readiness starts failing, liveness passing). */
  constructor(
    spec: ProbeSpec,
    ports: Record<string, number>,
    dial: Dial,
    initial: boolean,
    onChange: (passing: boolean) => void,
  ) {
    this.#spec = spec;
    this.#timing = timingOf(spec);
    this.#ports = ports;
    this.#dial = dial;
    this.#passing = initial;
    this.#onChange = onChange;
  }

  get passing(): boolean {
    return this.#passing;
  }

  start(): void {
    this.#timer = setTimeout(() => this.#run(), this.#timing.initialDelayMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#health?.close();
  }

  /**
   * One probe, then the next a period after this one started, not after it ended: the kubelet's prober
   * worker runs off a time.Ticker (pkg/kubelet/prober/worker.go), so a probe that waits out its timeout
   * does not stretch the period, and a hung pod fails its probes periodSeconds apart.
   */
  #run(): void {
    if (this.#stopped) return;
    const started = performance.now();
    void this.#once().then((passed) => {
      if (this.#stopped) return;
      this.#record(passed);
      const next = Math.max(0, this.#timing.periodMs - (performance.now() - started));
      this.#timer = setTimeout(() => this.#run(), next);
    });
  }

  #record(passed: boolean): void {
    this.#successes = passed ? this.#successes + 1 : 0;
    this.#failures = passed ? 0 : this.#failures + 1;
    const next = this.#passing
      ? this.#failures < this.#timing.failureThreshold
      : this.#successes >= this.#timing.successThreshold;
    if (next === this.#passing) return;
    this.#passing = next;
    this.#onChange(next);
  }

  #port(port: number | string): number | undefined {
    return typeof port === 'number' ? port : /^\d+$/.test(port) ? Number(port) : this.#ports[port];
  }

  #once(): Promise<boolean> {
    const { timeoutMs } = this.#timing;
    const spec = this.#spec;
    if (spec.grpc) {
      const { host, port } = this.#dial(spec.grpc.port);
      this.#health ??= new HealthClient(`${host}:${port}`, grpc.credentials.createInsecure()) as unknown as HealthCheck;
      const health = this.#health;
      return new Promise((resolve) =>
        health.check({ service: spec.grpc?.service ?? '' }, { deadline: Date.now() + timeoutMs }, (error, reply) =>
          resolve(!error && reply?.status === 'SERVING'),
        ),
      );
    }
    if (spec.httpGet) {
      const containerPort = this.#port(spec.httpGet.port);
      if (containerPort === undefined) return Promise.resolve(false);
      const { host, port } = this.#dial(containerPort);
      return new Promise((resolve) => {
        const req = request(
          { host, port, path: spec.httpGet?.path ?? '/', agent: false, timeout: timeoutMs },
          (res) => {
            res.resume();
            resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
          },
        );
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
        req.end();
      });
    }
    if (spec.tcpSocket) {
      const containerPort = this.#port(spec.tcpSocket.port);
      if (containerPort === undefined) return Promise.resolve(false);
      const { host, port } = this.#dial(containerPort);
      return new Promise((resolve) => {
        const socket = connect({ host, port, timeout: timeoutMs });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('timeout', () => socket.destroy());
        socket.once('error', () => resolve(false));
        socket.once('close', () => resolve(false));
      });
    }
    return Promise.resolve(true);
  }
}
