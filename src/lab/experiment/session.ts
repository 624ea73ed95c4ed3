// A run of the lab, start to end, for the commands that run one (run, compare, up): the cluster started
// with the kit's manifest applied, the strategies' folders applied beside it (strategy-folders.ts), the
// parts the post's clients need, the pods watched, the clients started once a pod can answer them — each
// client left out, with one line, where it cannot run here — and everything stopped in order at the end.
// A strategy's client runs as its manifest says, what it names in the cluster rewritten where the lab
// serves it (node/in-cluster.ts), at the pace the command sets.
import { setTimeout as sleep } from 'node:timers/promises';
import { raiseOpenFileLimit } from '../../common/open-files.js';
import type { KubeObject } from '../api/store.js';
import { Cluster, NAMESPACE } from '../cluster.js';
import { specOf, type DeploymentSpec } from '../controllers/objects.js';
import type { BalancerName } from '../data-plane/balancer.js';
import type { Mesh } from '../data-plane/mesh.js';
import type { Programs } from '../node/images.js';
import { translateCall } from '../node/in-cluster.js';
import { expand } from '../node/kubelet-env.js';
import {
  labelOf,
  NO_POD_ADDRESSES,
  type ClientCall,
  type ClientEntry,
  type HostPart,
  type HostParts,
} from './clients.js';
import type { Progress } from './engine.js';
import { StoreApi } from './cluster-api.js';
import { AGED, Parts, SERVER } from './parts.js';
import { PodWatch, podEventText } from './pod-watch.js';
import type { Recorder } from './recording.js';
import { clientDeployment, STRATEGY_LABEL, StrategyFolders } from './strategy-folders.js';
import { Workload } from './workload.js';

/** Below this many open files, a flood of connections can take the lab's API and dashboard too. */
const LOW_OPEN_FILES = 4096;

export interface SessionOptions {
  programs: Programs;
  /** the server's Deployment and Service (the kit's k8s/server.yml, or --manifest) */
  manifest: readonly KubeObject[];
  /** the strategies' folders (the kit's k8s/strategies, or --strategies-dir): for runs that apply them */
  strategiesDir?: string;
  podCidr: string;
  ports: { api: number; http: number; grpc: number; mesh: number };
  meshBalancer: BalancerName;
  /** the +age servers' max connection age instead of their manifest's */
  connectionAgeMs?: number;
  progress: Progress;
  allowedOrigins?: string[];
  kubeconfig?: string;
  ownPodAddresses?: boolean;
  /** say the pods' events as progress (default true; lab up's live view says them itself) */
  podEvents?: boolean;
  /** told of each sidecar the lab starts for a meshed pod it runs */
  onSidecar?: (name: string, mesh: Mesh) => void;
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
  /** how it calls as the lab runs it: its target, its other args, its environment */
  call: ClientCall;
}

export interface SessionStart {
  /** what the post's clients need beside the pods */
  hostParts?: ReadonlySet<HostPart>;
  /** the strategies whose folders are applied */
  strategies?: readonly ClientEntry[];
  /** their client Deployments run as pods (lab up), else as the lab's processes (startClients) */
  clientPods?: boolean;
  /** the server Deployment's replicas instead of the manifest's */
  replicas?: number;
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

/** Flags that set how a client calls, which the lab sets itself for every client alike. */
const PACE_FLAGS = ['--rate', '--interval', '--deadline-ms', '--count', '--output'];

/** The args without the pace flags (and their values), and those it took out. */
export function withoutPace(args: readonly string[]): { args: string[]; removed: string[] } {
  const kept: string[] = [];
  const removed: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = arg.split('=')[0] as string;
    if (!PACE_FLAGS.includes(flag)) kept.push(arg);
    else if (arg.includes('=')) removed.push(arg);
    else removed.push(arg, ...(i + 1 < args.length ? [args[++i] as string] : []));
  }
  return { args: kept, removed };
}

const paceArgs = (pace: CallPace, program: ClientEntry['program']) => [
  ...(pace.rate !== undefined ? ['--rate', String(pace.rate)] : ['--interval', String(pace.intervalMs ?? 1000)]),
  ...(pace.deadlineMs !== undefined && program === 'client-grpc' ? ['--deadline-ms', String(pace.deadlineMs)] : []),
];

export class Session {
  readonly cluster: Cluster;
  /** the lab's API as the engine drives it */
  readonly api: StoreApi;
  readonly pods: PodWatch;
  readonly parts: Parts;
  readonly strategies: StrategyFolders;
  readonly clients: RunningClient[] = [];
  running: HostParts | undefined;
  readonly #options: SessionOptions;

  constructor(options: SessionOptions) {
    this.#options = options;
    const say = (line: string) => options.progress.event(line);
    this.cluster = new Cluster({
      programs: options.programs,
      podCidr: options.podCidr,
      allowedOrigins: options.allowedOrigins,
      ownPodAddresses: options.ownPodAddresses,
      kubeconfig: options.kubeconfig,
      onSidecar: options.onSidecar,
      say,
      onError: (error) => options.progress.event(`lab: ${(error as Error).message ?? String(error)}`),
    });
    this.api = new StoreApi(this.cluster.store, NAMESPACE);
    this.pods = new PodWatch(this.api);
    this.parts = new Parts(this.cluster, { meshPort: options.ports.mesh, meshBalancer: options.meshBalancer, say });
    this.strategies = new StrategyFolders(this.cluster, {
      dir: options.strategiesDir ?? 'k8s/strategies',
      connectionAgeMs: options.connectionAgeMs,
      say,
    });
  }

  /**
   * Starts the API, the node and the server's Deployment (PortInUseError when a port is taken), the
   * strategies' folders (ManifestError when one is wrong), then the post's parts.
   */
  async start(run: SessionStart = {}): Promise<HostParts> {
    const { ports, manifest, progress } = this.#options;
    // Every connection the lab holds is a descriptor (two through the Service): say when they are few.
    const files = raiseOpenFileLimit();
    if (files.raised || (files.after && files.after.soft < LOW_OPEN_FILES)) progress.event(`lab: ${files.line}`);
    await this.cluster.start(ports.api);
    this.pods.start();
    this.pods.on('pod', (event) => {
      const text = this.#options.podEvents === false ? undefined : podEventText(event);
      if (text)
        progress.event(`  ${event.deployment && event.deployment !== SERVER ? `${event.deployment}: ` : ''}${text}`);
    });
    const objects = withNodePorts(manifest, ports.http, ports.grpc).map((object) =>
      object.kind === 'Deployment' && run.replicas !== undefined
        ? { ...object, spec: { ...object.spec, replicas: run.replicas } }
        : object,
    );
    await this.cluster.apply(objects);
    if (run.strategies && run.strategies.length > 0) {
      await this.strategies.start(run.strategies, run.clientPods ?? false);
    }
    this.running = await this.parts.start(run.hostParts ?? new Set());
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

  /**
   * Starts each client that can run here (recorded by `recorder` if given); says which cannot, and why.
   * `from`: the strategy's manifest (compare), or the host, as the post's terminals (run, up).
   */
  async startClients(
    entries: readonly ClientEntry[],
    from: 'manifest' | 'host',
    pace: CallPace,
    recorder?: Recorder,
  ): Promise<RunningClient[]> {
    const running = this.running;
    if (!running) throw new Error('start the session first');
    // What the lab did in place of what the manifests ask, each said once: a line several strategies share
    // is one line naming them all.
    const said = new Map<string, string[]>();
    const say = (entry: ClientEntry) => (line: string) => said.set(line, [...(said.get(line) ?? []), entry.name]);
    const calls: Array<[ClientEntry, ClientCall | { unavailable: string }]> = [];
    for (const entry of entries)
      calls.push([
        entry,
        from === 'host' ? this.#hostCall(entry, running) : await this.#manifestCall(entry, pace, say(entry)),
      ]);
    for (const [line, names] of said) this.#options.progress.event(`lab: ${names.join(', ')}: ${line}`);
    for (const [entry, call] of calls) {
      if ('unavailable' in call) {
        this.#options.progress.event(`lab: ${labelOf(entry)} left out: ${call.unavailable}`);
        if (recorder) recorder.client(entry.name).record.unavailable = call.unavailable;
        continue;
      }
      const args = [call.target, ...(call.args ?? []), ...paceArgs(pace, entry.program)];
      const program =
        entry.program === 'client-grpc' ? this.#options.programs.clientGrpc : this.#options.programs.clientHttp;
      const workload = new Workload({ program, args, env: call.env ?? {} });
      if (recorder) workload.on('call', recorder.client(entry.name).call);
      this.clients.push({ entry, workload, call });
    }
    return this.clients;
  }

  #hostCall(entry: ClientEntry, running: HostParts): ClientCall | { unavailable: string } {
    if (!entry.host) return { unavailable: `${entry.name} is not one of the post's clients` };
    if (entry.dialsPods && !this.cluster.network.ownAddresses) return { unavailable: NO_POD_ADDRESSES };
    return entry.host.call(running);
  }

  /** The strategy's client as its Deployment has it, with what it names rewritten where the lab serves it. */
  async #manifestCall(
    entry: ClientEntry,
    pace: CallPace,
    say: (line: string) => void,
  ): Promise<ClientCall | { unavailable: string }> {
    const manifest = entry.manifest;
    if (!manifest) return { unavailable: `${entry.name} has no manifest` };
    const missing = manifest.folders.map((folder) => this.strategies.unavailable.get(folder)).find(Boolean);
    if (missing) return { unavailable: missing };
    if (entry.dialsPods && !this.cluster.network.ownAddresses) return { unavailable: NO_POD_ADDRESSES };
    const found = clientDeployment(this.strategies.objects, manifest.strategy);
    if (!found) {
      return {
        unavailable: `no client Deployment annotated ${STRATEGY_LABEL}: ${manifest.strategy} in ${manifest.folders.map((f) => `${this.#options.strategiesDir}/${f}`).join(', ')}`,
      };
    }
    const template = specOf<DeploymentSpec>(found.object).template;
    const container = template.spec.containers[0];
    if (!container) return { unavailable: `${found.file}: no container` };
    // The values the manifest gives; a value from the downward API names a pod, and the client runs as none.
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = expand(variable.value, env);
      else
        say(
          `env ${variable.name}: not set: its valueFrom names a pod's field, and the lab runs this client as a process of its own`,
        );
    }
    const balancer = manifest.balancer ?? this.#options.meshBalancer;
    const lab = this.cluster.inCluster(async (service) => {
      const port = await this.parts.sidecar(entry.name, service, balancer);
      return {
        address: { host: '127.0.0.1', port },
        by: `the lab's sidecar over the Service ${service} (${balancer === 'p2c-ewma' ? "Linkerd's p2c over peak EWMA" : 'round-robin'}, and what its annotations ask)`,
      };
    });
    const translated = await translateCall(
      {
        image: container.image?.includes('addr-client-http') ? 'addr-client-http' : 'addr-client-grpc',
        args: (container.args ?? []).map((arg) => expand(arg, env)),
        env,
        annotations: template.metadata?.annotations ?? {},
      },
      lab,
    );
    say(
      "client Deployments run as processes of the lab's own, not pods, so that each one's CPU and memory are its own",
    );
    for (const line of translated.lines) say(line);
    if ('unavailable' in translated) return { unavailable: translated.unavailable };
    const { args, removed } = withoutPace(translated.args);
    const paced = paceArgs(pace, entry.program).join(' ');
    const asked = removed.filter((arg, i) => !(arg === '--output' && removed[i + 1] === 'jsonl') && arg !== 'jsonl');
    if (asked.length > 0)
      say(
        `args ${asked.join(' ')} → ${paced}: every client of the run calls at the pace of the command and its scenario`,
      );
    if (manifest.args) {
      args.push(...manifest.args);
      say(`args + ${manifest.args.join(' ')}: a variant the lab adds to the ${manifest.strategy} strategy's client`);
    }
    const [target = '', ...rest] = args;
    return { target, args: rest, env: translated.env };
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
    await Promise.allSettled([this.parts.stop(), this.strategies.stop()]);
    await this.cluster.stop();
  }
}
