// A run of the lab, start to end, for the commands that run one (run, compare, up): the cluster started
// with the kit's manifest applied, the parts the chosen clients need, the pods watched, the clients
// started once a pod can answer them — each client left out, with one line, where it cannot run here —
// and everything stopped in order at the end.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../api/store.js';
import { Cluster, NAMESPACE } from '../cluster.js';
import type { BalancerName } from '../data-plane/balancer.js';
import type { Programs } from '../node/images.js';
import { labelOf, type ClientEntry, type Part, type RunningParts } from './clients.js';
import type { Progress } from './engine.js';
import { AGED, Parts, SERVER } from './parts.js';
import { PodWatch, podEventText } from './pod-watch.js';
import type { Recorder } from './recording.js';
import { Workload } from './workload.js';

export interface SessionOptions {
  programs: Programs;
  /** the server's Deployment and Service (the kit's k8s/server.yml, or --manifest) */
  manifest: readonly KubeObject[];
  podCidr: string;
  ports: { api: number; http: number; grpc: number; mesh: number };
  meshBalancer: BalancerName;
  connectionAgeMs: number;
  progress: Progress;
  allowedOrigins?: string[];
  kubeconfig?: string;
  ownPodAddresses?: boolean;
}

/** How the clients call: one call at a time every intervalMs (the post's clients), or at a fixed rate. */
export interface CallPace {
  intervalMs?: number;
  rate?: number;
  deadlineMs?: number;
}

export interface RunningClient {
  entry: ClientEntry;
  workload: Workload;
}

/** The manifest with the Service's NodePorts the command chose. */
export function withNodePorts(manifest: readonly KubeObject[], http: number, grpc: number): KubeObject[] {
  return manifest.map((object) => {
    if (object.kind !== 'Service' || object.metadata.name !== SERVER) return object;
    const copy = structuredClone(object);
    for (const port of (copy.spec as { ports?: Array<{ name?: string; nodePort?: number }> }).ports ?? []) {
      if (port.name === 'http') port.nodePort = http;
      if (port.name === 'grpc') port.nodePort = grpc;
    }
    return copy;
  });
}

export class Session {
  readonly cluster: Cluster;
  readonly pods: PodWatch;
  readonly parts: Parts;
  readonly clients: RunningClient[] = [];
  running: RunningParts | undefined;
  readonly #options: SessionOptions;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.cluster = new Cluster({
      programs: options.programs,
      podCidr: options.podCidr,
      allowedOrigins: options.allowedOrigins,
      ownPodAddresses: options.ownPodAddresses,
      onError: (error) => options.progress.event(`lab: ${(error as Error).message ?? String(error)}`),
    });
    this.pods = new PodWatch(this.cluster.store, NAMESPACE);
    this.parts = new Parts(this.cluster, {
      manifest: options.manifest,
      connectionAgeMs: options.connectionAgeMs,
      meshPort: options.ports.mesh,
      meshBalancer: options.meshBalancer,
      kubeconfig: options.kubeconfig,
      say: (line) => options.progress.event(line),
    });
  }

  /** Starts the API, the node and the server's Deployment (PortInUseError when a port is taken), then the parts. */
  async start(needed: ReadonlySet<Part>, replicas?: number): Promise<RunningParts> {
    const { ports, manifest, progress } = this.#options;
    await this.cluster.start(ports.api);
    this.pods.start();
    this.pods.on('pod', (event) => {
      const text = podEventText(event);
      if (text !== undefined)
        progress.event(`  ${event.deployment && event.deployment !== SERVER ? `${event.deployment}: ` : ''}${text}`);
    });
    const objects = withNodePorts(manifest, ports.http, ports.grpc).map((object) =>
      object.kind === 'Deployment' && replicas !== undefined
        ? { ...object, spec: { ...object.spec, replicas } }
        : object,
    );
    await this.cluster.apply(objects);
    this.running = await this.parts.start(needed);
    return this.running;
  }

  /** The server Deployments the run scales: the post's, and the +age one when a client needs it. */
  deployments(entries: readonly ClientEntry[]): string[] {
    return entries.some((entry) => entry.deployment === AGED) ? [SERVER, AGED] : [SERVER];
  }

  /** Resolves once each of the Deployments has a ready pod (bounded). */
  async firstPods(deployments: readonly string[], signal: AbortSignal, timeoutMs = 30_000): Promise<void> {
    const started = performance.now();
    const readyOf = (name: string) =>
      (this.cluster.store.get('deployments', NAMESPACE, name)?.status as { readyReplicas?: number } | undefined)
        ?.readyReplicas ?? 0;
    while (deployments.some((name) => readyOf(name) === 0)) {
      if (signal.aborted) throw new Error('interrupted');
      if (performance.now() - started > timeoutMs) {
        throw new Error(
          `no pod of ${deployments.filter((name) => readyOf(name) === 0).join(', ')} was ready within ${timeoutMs / 1000} s`,
        );
      }
      this.#options.progress.status('starting the first pods …');
      await sleep(50);
    }
  }

  /** Starts each client that can run here (recorded by `recorder` if given); says which cannot, and why. */
  startClients(entries: readonly ClientEntry[], pace: CallPace, recorder?: Recorder): RunningClient[] {
    const running = this.running;
    if (!running) throw new Error('start the session first');
    for (const entry of entries) {
      const call = entry.call(running);
      if ('unavailable' in call) {
        this.#options.progress.event(`lab: ${labelOf(entry)} left out: ${call.unavailable}`);
        if (recorder) recorder.client(entry.name).record.unavailable = call.unavailable;
        continue;
      }
      const args = [
        ...(call.args ?? []),
        ...(pace.rate !== undefined ? ['--rate', String(pace.rate)] : ['--interval', String(pace.intervalMs ?? 1000)]),
        ...(pace.deadlineMs !== undefined && entry.program === 'client-grpc'
          ? ['--deadline-ms', String(pace.deadlineMs)]
          : []),
      ];
      const program =
        entry.program === 'client-grpc' ? this.#options.programs.clientGrpc : this.#options.programs.clientHttp;
      const workload = new Workload({ program, target: call.target, args, env: call.env ?? {} });
      if (recorder) workload.on('call', recorder.client(entry.name).call);
      this.clients.push({ entry, workload });
    }
    return this.clients;
  }

  /**
   * Resolves once every client has had an answer (bounded): a client that exits or keeps failing is
   * named, with its own last error lines, rather than a silent timeout.
   */
  async firstReplies(signal: AbortSignal, timeoutMs = 30_000): Promise<void> {
    const waiting = new Set(this.clients);
    const answered = (client: RunningClient) => client.workload.calls > client.workload.failures;
    const started = performance.now();
    for (;;) {
      for (const client of waiting) if (answered(client)) waiting.delete(client);
      if (waiting.size === 0) return;
      if (signal.aborted) throw new Error('interrupted');
      const gone = [...waiting].find((client) => client.workload.exited);
      if (gone || performance.now() - started > timeoutMs) {
        const lines = [...waiting].map(
          ({ entry, workload }) =>
            `  ${labelOf(entry)}${workload.exited ? ' exited' : ` had no answer in ${timeoutMs / 1000} s`}: ${workload.lastErrors.at(-1) ?? 'it printed nothing'}`,
        );
        throw new Error(`a client did not get its first answer:\n${lines.join('\n')}`);
      }
      this.#options.progress.status(
        `waiting for the first answers (${waiting.size} of ${this.clients.length} clients) …`,
      );
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map(({ workload }) => workload.stop()));
    this.pods.stop();
    await this.parts.stop();
    await this.cluster.stop();
  }
}
