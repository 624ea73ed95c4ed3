// The control plane: a Deployment with a replica count. It starts pods until the count is met, puts a
// pod into the Service's endpoints once it is ready, and on scale-down takes a pod out of the endpoints
// before it sends SIGTERM — the order Kubernetes aims for. A pod that dies is replaced.
import { EventEmitter } from 'node:events';
import { Endpoints } from './endpoints.js';
import { Pod } from './pod.js';

export interface DeploymentOptions {
  serverBin: string;
  /** The container's environment for a pod of this name and IP, as the kubelet would give it. */
  podEnv: (pod: { name: string; ip: string }) => Record<string, string>;
}

/** The emulated pod network: pods get 10.1.0.8, .9, … (10.1.0.8 is the post's first pod). */
const POD_NETWORK_PREFIX = '10.1.0.';

interface DeploymentEvents {
  /** Something a person watching would want to know: a pod started, became ready, was replaced, … */
  event: [message: string];
}

export class Deployment extends EventEmitter<DeploymentEvents> {
  readonly endpoints = new Endpoints();
  readonly #pods = new Set<Pod>();
  readonly #serverBin: string;
  readonly #podEnv: DeploymentOptions['podEnv'];
  readonly #deleting = new Set<Pod>();
  #nextHost = 8;
  #replicas = 0;
  #stopped = false;
  /** CrashLoopBackOff, in short: a pod that dies before it was ever ready is replaced after a growing delay. */
  #backoffMs = 0;
  #backoffTimer: NodeJS.Timeout | undefined;

  constructor({ serverBin, podEnv }: DeploymentOptions) {
    super();
    this.#serverBin = serverBin;
    this.#podEnv = podEnv;
  }

  get replicas(): number {
    return this.#replicas;
  }

  /** The pods that count toward the replicas (not terminating), oldest first. */
  get pods(): Pod[] {
    return [...this.#pods].filter((pod) => pod.phase === 'Pending' || pod.phase === 'Running');
  }

  get allPods(): Pod[] {
    return [...this.#pods];
  }

  scale(replicas: number): void {
    this.#replicas = replicas;
    this.#reconcile();
  }

  /** Resolves once `count` pods are ready. Unbounded: the caller decides how long to wait. */
  waitReady(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.endpoints.list().length < count) return;
        this.endpoints.off('change', check);
        resolve();
      };
      this.endpoints.on('change', check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#backoffTimer);
    this.#replicas = 0;
    await Promise.all([...this.#pods].map((pod) => this.#delete(pod)));
  }

  #reconcile(): void {
    if (this.#stopped) return;
    const live = this.pods;
    for (let i = live.length; i < this.#replicas; i++) this.#create();
    // Scale-down removes the newest pods first (unready ones before ready ones), as a ReplicaSet would.
    const victims = live
      .slice()
      .sort((a, b) => Number(a.ready) - Number(b.ready) || live.indexOf(b) - live.indexOf(a))
      .slice(0, Math.max(0, live.length - this.#replicas));
    for (const pod of victims) void this.#delete(pod);
  }

  #create(): void {
    const ip = `${POD_NETWORK_PREFIX}${this.#nextHost}`;
    const name = `addr-server-${this.#nextHost}`;
    this.#nextHost += 1;
    const pod = new Pod(name, ip, this.#serverBin, this.#podEnv({ name, ip }));
    this.#pods.add(pod);
    this.emit('event', `pod ${ip} created`);
    let everReady = false;
    pod.on('ready', () => {
      everReady = true;
      this.#backoffMs = 0;
      if (pod.endpoint) this.endpoints.add(pod.endpoint);
      this.emit('event', `pod ${ip} ready: added to the endpoints`);
    });
    pod.on('unready', () => this.endpoints.remove(ip));
    pod.on('exit', (code, signal) => {
      this.endpoints.remove(ip);
      this.#pods.delete(pod);
      if (this.#deleting.delete(pod) || this.#stopped) return;
      const why = `${signal ?? `exit ${code}`}${pod.lastError ? `: ${pod.lastError}` : ''}`;
      if (everReady) {
        this.emit('event', `pod ${ip} died (${why}): replacing it`);
        this.#reconcile();
      } else {
        this.#backoffMs = Math.min(30_000, Math.max(1000, this.#backoffMs * 2));
        this.emit('event', `pod ${ip} died before it was ready (${why}): replacing it in ${this.#backoffMs / 1000} s`);
        clearTimeout(this.#backoffTimer);
        this.#backoffTimer = setTimeout(() => this.#reconcile(), this.#backoffMs);
      }
    });
  }

  async #delete(pod: Pod): Promise<void> {
    if (this.#deleting.has(pod) || pod.phase === 'Gone') return pod.exited;
    this.#deleting.add(pod);
    this.endpoints.remove(pod.ip); // out of the Service first …
    this.emit('event', `pod ${pod.ip} terminating: removed from the endpoints, then SIGTERM`);
    await pod.terminate(); // … then the kubelet stops it; the server drains its calls in flight
  }
}
