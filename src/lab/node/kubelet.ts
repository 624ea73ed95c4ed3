// The kubelet of the lab's one node, a client of the API as on a cluster: it runs the pods bound to its
// node — the container as a real process (the image's program, from out/), with the environment a
// kubelet gives, listening at the pod's own IP — probes them as their spec says, reports their status
// (phase, IP, conditions, container state, restarts), restarts a container that exits or fails its
// liveness probe (after a growing back-off: CrashLoopBackOff), and on deletion stops it gracefully
// (SIGTERM, SIGKILL after the grace period) before it removes the pod for good. It keeps each
// container's output for `kubectl logs`. A client pod's container gets what its manifest names by
// in-cluster name rewritten to where the lab serves it (in-cluster.ts), once per pod; the sidecar a meshed
// pod gets goes with the pod.
import type { PodLogRequest } from '../api/pod-requests.js';
import { timestamp, type KubeObject, type ObjectStore, type Watcher } from '../api/store.js';
import { ApiError } from '../api/status.js';
import { parseListening } from '../../common/output.js';
import { Supervised } from '../../common/supervised.js';
import {
  conditionOf,
  controllerOf,
  specOf,
  statusOf,
  TEMPLATE_HASH,
  withCondition,
  type Condition,
  type Container,
  type ContainerStatus,
  type PodSpec,
  type PodStatus,
} from '../controllers/objects.js';
import { keyOf } from '../controllers/queue.js';
import { programFor, IMAGES, type Image, type Programs } from './images.js';
import { translateCall, type ClientImage, type InCluster } from './in-cluster.js';
import { expand, kubeletEnv, type LinkedService } from './kubelet-env.js';
import type { PodNetwork } from './pod-network.js';
import { Prober } from './probes.js';

export interface KubeletOptions {
  nodeName: string;
  programs: Programs;
  network: PodNetwork;
  /** the Service `kubernetes` in default: the API server, whose link variables every container gets */
  apiServer: LinkedService;
  now?: () => Date;
  onError?: (error: unknown) => void;
  /** where the lab serves what client pods reach by name (absent: their args and env run as they are) */
  inCluster?: (pod: { namespace: string; name: string }) => { lab: InCluster; release(): Promise<void> };
  /** told of each rewrite the lab made to a client pod's call, once per ReplicaSet */
  say?: (line: string) => void;
}

/** Lines kept per container, as the container runtime keeps a bounded log. */
const LOG_LINES = 2000;
/** CrashLoopBackOff: the first restart at once, then 10 s doubling up to 5 min (kubelet's defaults). */
const BACKOFF_START_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;
/** A container that ran this long without failing starts its back-off afresh. */
const BACKOFF_RESET_MS = 600_000;

class ContainerLog {
  readonly lines: string[] = [];
  /** when each line came (ms since the epoch), for sinceTime and sinceSeconds */
  readonly times: number[] = [];
  closed = false;
  readonly #followers = new Set<(line: string | undefined) => void>();

  push(line: string): void {
    this.lines.push(line);
    this.times.push(Date.now());
    if (this.lines.length > LOG_LINES) {
      this.lines.shift();
      this.times.shift();
    }
    for (const follower of this.#followers) follower(line);
  }

  /** The lines kept, from `since` on and at most the last `tail` of them, as the kubelet serves a log. */
  kept(since: Date | undefined, tail: number | undefined): string[] {
    const from = since === undefined ? 0 : this.times.findIndex((t) => t >= since.getTime());
    const lines = from === -1 ? [] : this.lines.slice(from);
    return tail === undefined ? lines : tail === 0 ? [] : lines.slice(-tail);
  }

  /** The container ended: followers get the end of the stream. */
  close(): void {
    this.closed = true;
    for (const follower of this.#followers) follower(undefined);
    this.#followers.clear();
  }

  follow(listener: (line: string | undefined) => void): () => void {
    this.#followers.add(listener);
    return () => this.#followers.delete(listener);
  }
}

/** What the kubelet knows of one pod it runs. */
interface Runtime {
  key: string;
  namespace: string;
  name: string;
  uid: string | undefined;
  ip: string;
  container: Container;
  image: Image | undefined;
  process: Supervised | undefined;
  log: ContainerLog;
  previousLog: ContainerLog | undefined;
  restarts: number;
  backoffMs: number;
  startedAt: Date | undefined;
  podStartedAt: Date;
  state: Record<string, unknown>;
  lastState: Record<string, unknown> | undefined;
  ready: boolean;
  readiness: Prober | undefined;
  liveness: Prober | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  /** a client pod's call, rewritten where the lab serves what it names (once, at its first start) */
  call: { args: string[]; env: Record<string, string> } | undefined;
  /** what the lab started for the pod (a sidecar), released when the pod goes */
  release: (() => Promise<void>) | undefined;
  /** set once the pod is being deleted: resolves when its container is gone */
  terminating: Promise<void> | undefined;
  gone: boolean;
  /** why the container cannot start (image, configuration): the pod stays Pending with this reason */
  waiting: { reason: string; message: string } | undefined;
  conditions: Condition[];
}

export class Kubelet {
  readonly #store: ObjectStore;
  readonly #options: KubeletOptions;
  readonly #pods = new Map<string, Runtime>();
  /** the ReplicaSets whose rewrites were said */
  readonly #said = new Set<string>();
  #watcher: Watcher | undefined;
  #stopped = false;

  constructor(store: ObjectStore, options: KubeletOptions) {
    this.#store = store;
    this.#options = options;
  }

  start(): void {
    this.#watcher = this.#store.watch('pods', {}, ({ type, object }) => {
      if (specOf<PodSpec>(object).nodeName !== this.#options.nodeName) return;
      try {
        this.#observe(type, object);
      } catch (error) {
        this.#options.onError?.(error);
      }
    });
  }

  /** Stops every container (SIGTERM, SIGKILL after `graceMs`): the node going away need not wait for drains. */
  async stop(graceMs = 2000): Promise<void> {
    this.#stopped = true;
    this.#watcher?.stop();
    await Promise.all(
      [...this.#pods.values()].map(async (runtime) => {
        clearTimeout(runtime.restartTimer);
        runtime.readiness?.stop();
        runtime.liveness?.stop();
        await runtime.process?.stop(graceMs);
        await runtime.release?.();
        this.#options.network.release(runtime.ip);
      }),
    );
    this.#pods.clear();
  }

  /** The process running a pod's container (its containerID is process://PID). */
  pidOf(namespace: string, name: string): number | undefined {
    return this.#pods.get(keyOf(namespace, name))?.process?.pid;
  }

  /** For `kubectl logs`: the container's output so far, or followed as it comes. */
  logs(request: PodLogRequest): string | AsyncIterable<string> {
    const runtime = this.#pods.get(keyOf(request.namespace, request.pod));
    const log = request.previous ? runtime?.previousLog : runtime?.log;
    if (!runtime || !log || (!request.previous && !runtime.process)) {
      const what = request.previous ? 'previous terminated container' : 'container';
      throw new ApiError(
        400,
        'BadRequest',
        request.previous
          ? `${what} "${request.container}" in pod "${request.pod}" not found`
          : `container "${request.container}" in pod "${request.pod}" is waiting to start: ${runtime?.waiting?.reason ?? 'ContainerCreating'}`,
      );
    }
    const text = (lines: string[]) => lines.map((line) => `${line}\n`).join('');
    const kept = log.kept(request.since, request.tailLines);
    if (!request.follow || request.previous) return text(kept);
    return followLog(log, kept, request.signal);
  }

  #observe(type: string, pod: KubeObject): void {
    const key = keyOf(pod.metadata.namespace, pod.metadata.name);
    const runtime = this.#pods.get(key);
    if (type === 'DELETED') {
      // Deleted for good: at once when forced (grace 0), or after our own graceful stop.
      if (runtime && !runtime.gone) void this.#terminate(runtime, 0);
      return;
    }
    if (runtime && runtime.uid !== pod.metadata.uid) return; // an old pod of the same name, still stopping
    if (pod.metadata.deletionTimestamp !== undefined) {
      if (runtime) void this.#terminate(runtime, (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000);
      else this.#store.delete('pods', pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
      return;
    }
    if (!runtime && !this.#stopped) this.#admit(pod);
  }

  #admit(pod: KubeObject): void {
    const { namespace = 'default', name, uid } = pod.metadata;
    const spec = specOf<PodSpec>(pod);
    const container = spec.containers[0];
    const ip = this.#options.network.allocate();
    if (!container || !ip) return;
    const program = programFor(container.image, this.#options.programs);
    const runtime: Runtime = {
      key: keyOf(namespace, name),
      namespace,
      name,
      uid,
      ip,
      container,
      image: program?.image,
      process: undefined,
      log: new ContainerLog(),
      previousLog: undefined,
      restarts: 0,
      backoffMs: 0,
      startedAt: undefined,
      podStartedAt: this.#now(),
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: undefined,
      ready: false,
      readiness: undefined,
      liveness: undefined,
      restartTimer: undefined,
      call: undefined,
      release: undefined,
      terminating: undefined,
      gone: false,
      waiting: program
        ? undefined
        : {
            reason: 'ErrImagePull',
            message: `the lab runs only the kit's images (${IMAGES.join(', ')}), not ${container.image ?? '(none)'}`,
          },
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
      ],
    };
    this.#pods.set(runtime.key, runtime);
    if (runtime.waiting) runtime.state = { waiting: runtime.waiting };
    else if (isClient(program?.image) && this.#options.inCluster) void this.#runClient(runtime, pod, program.path);
    else this.#run(runtime, pod, program?.path as string);
    this.#report(runtime);
  }

  /** A client pod: its call rewritten where the lab serves what it names (a sidecar started if meshed), then run. */
  async #runClient(runtime: Runtime, pod: KubeObject, path: string): Promise<void> {
    const env = this.#env(runtime, pod);
    if (!env) return;
    const inCluster = this.#options.inCluster?.({ namespace: runtime.namespace, name: runtime.name });
    if (!inCluster) return;
    runtime.release = inCluster.release;
    let translated;
    try {
      translated = await translateCall(
        {
          image: runtime.image as ClientImage,
          args: (runtime.container.args ?? []).map((arg) => expand(arg, env)),
          env,
          annotations: pod.metadata.annotations ?? {},
        },
        inCluster.lab,
      );
    } catch (error) {
      translated = { unavailable: (error as Error).message, lines: [] };
    }
    // Said once per ReplicaSet, in the name of its Deployment (the ReplicaSet is DEPLOYMENT-HASH).
    const replicaSet = controllerOf(pod)?.name ?? runtime.name;
    if (!this.#said.has(replicaSet)) {
      this.#said.add(replicaSet);
      const hash = pod.metadata.labels?.[TEMPLATE_HASH];
      const owner = hash && replicaSet.endsWith(`-${hash}`) ? replicaSet.slice(0, -hash.length - 1) : replicaSet;
      for (const line of translated.lines) this.#options.say?.(`lab: ${owner}: ${line}`);
    }
    if (runtime.terminating || runtime.gone || this.#stopped) return;
    if ('unavailable' in translated) {
      runtime.waiting = { reason: 'CreateContainerConfigError', message: translated.unavailable };
      runtime.state = { waiting: runtime.waiting };
      this.#report(runtime);
      return;
    }
    runtime.call = { args: translated.args, env: translated.env };
    this.#run(runtime, pod, path);
    this.#report(runtime);
  }

  /** The container's environment as a kubelet gives it; undefined (and the pod waiting) when it cannot be made. */
  #env(runtime: Runtime, pod: KubeObject): Record<string, string> | undefined {
    const spec = specOf<PodSpec>(pod);
    try {
      return kubeletEnv(
        runtime.container,
        {
          name: runtime.name,
          namespace: runtime.namespace,
          ip: runtime.ip,
          nodeName: this.#options.nodeName,
          hostIp: '127.0.0.1',
          serviceAccountName: String(spec.serviceAccountName ?? 'default'),
        },
        this.#services(runtime.namespace),
        this.#options.apiServer,
        spec.enableServiceLinks !== false,
      );
    } catch (error) {
      runtime.waiting = { reason: 'CreateContainerConfigError', message: (error as Error).message };
      runtime.state = { waiting: runtime.waiting };
      return undefined;
    }
  }

  #run(runtime: Runtime, pod: KubeObject, path: string): void {
    const env = runtime.call?.env ?? this.#env(runtime, pod);
    if (!env) return;
    const network = this.#options.network;
    // No network namespaces: a server binds its own pod IP (or, without addresses of its own, ports of its own).
    const where =
      runtime.image === 'addr-server'
        ? network.ownAddresses
          ? ['--host', runtime.ip]
          : ['--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0']
        : [];
    const args = runtime.call?.args ?? (runtime.container.args ?? []).map((arg) => expand(arg, env));
    const child = new Supervised(process.execPath, [path, ...args, ...where, '--exit-on-stdin-close'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      lifeline: true,
    });
    runtime.process = child;
    runtime.startedAt = this.#now();
    runtime.state = { running: { startedAt: timestamp(runtime.startedAt) } };
    const log = runtime.log;
    child.on('line', (line) => {
      log.push(line);
      if (!network.ownAddresses && runtime.image === 'addr-server') {
        const listening = parseListening(line);
        if (listening) {
          const ports = this.#containerPorts(runtime);
          network.mapPorts(
            runtime.ip,
            new Map([
              [ports.http ?? 8080, listening.http.port],
              [ports.grpc ?? 30051, listening.grpc.port],
            ]),
          );
        }
      }
    });
    child.once('exit', (exit) => this.#exited(runtime, child, exit.code, exit.signal));
    this.#startProbes(runtime);
  }

  #containerPorts(runtime: Runtime): Record<string, number> {
    return Object.fromEntries(
      (runtime.container.ports ?? []).flatMap((p) => (p.name ? [[p.name, p.containerPort]] : [])),
    );
  }

  #startProbes(runtime: Runtime): void {
    const dial = (port: number) => this.#options.network.dial(runtime.ip, port);
    const ports = this.#containerPorts(runtime);
    const { readinessProbe, livenessProbe } = runtime.container;
    if (readinessProbe) {
      runtime.readiness = new Prober(readinessProbe, ports, dial, false, (passing) => {
        runtime.ready = passing;
        this.#report(runtime);
      });
      runtime.readiness.start();
    } else {
      runtime.ready = true; // no readiness probe: ready once running
    }
    if (livenessProbe) {
      runtime.liveness = new Prober(livenessProbe, ports, dial, true, (passing) => {
        if (passing || runtime.terminating) return;
        runtime.log.push(
          `kubelet: liveness probe failed ${livenessProbe.failureThreshold ?? 3} times: restarting the container`,
        );
        void this.#stopContainer(runtime, this.#graceMs(runtime));
      });
      runtime.liveness.start();
    }
  }

  #stopProbes(runtime: Runtime): void {
    runtime.readiness?.stop();
    runtime.liveness?.stop();
    runtime.readiness = undefined;
    runtime.liveness = undefined;
  }

  #graceMs(runtime: Runtime): number {
    const pod = this.#store.get('pods', runtime.namespace, runtime.name);
    return (specOf<PodSpec>(pod ?? ({ spec: {} } as KubeObject)).terminationGracePeriodSeconds ?? 30) * 1000;
  }

  async #stopContainer(runtime: Runtime, graceMs: number): Promise<void> {
    this.#stopProbes(runtime);
    runtime.ready = false;
    this.#report(runtime);
    await runtime.process?.stop(graceMs);
  }

  #exited(runtime: Runtime, child: Supervised, code: number | null, signal: NodeJS.Signals | null): void {
    if (runtime.process !== child) return;
    this.#stopProbes(runtime);
    runtime.ready = false;
    const finishedAt = this.#now();
    const terminated = {
      exitCode: code ?? 128 + signalNumber(signal),
      ...(signal && { signal: signalNumber(signal) }),
      reason: code === 0 ? 'Completed' : 'Error',
      startedAt: runtime.startedAt ? timestamp(runtime.startedAt) : undefined,
      finishedAt: timestamp(finishedAt),
    };
    runtime.log.close();
    runtime.previousLog = runtime.log;
    runtime.process = undefined;
    if (runtime.terminating || this.#stopped) {
      runtime.state = { terminated };
      return;
    }
    // restartPolicy Always (a Deployment's pods): the container comes back in the same pod, same IP.
    runtime.lastState = { terminated };
    const ranFor = runtime.startedAt ? finishedAt.getTime() - runtime.startedAt.getTime() : 0;
    if (ranFor >= BACKOFF_RESET_MS) runtime.backoffMs = 0;
    const delay = runtime.backoffMs;
    runtime.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_START_MS, runtime.backoffMs * 2));
    runtime.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${runtime.container.name} pod=${runtime.name}`,
      },
    };
    this.#report(runtime);
    runtime.restartTimer = setTimeout(() => {
      runtime.restartTimer = undefined;
      const pod = this.#store.get('pods', runtime.namespace, runtime.name);
      if (!pod || runtime.terminating || this.#stopped) return;
      runtime.restarts += 1;
      runtime.log = new ContainerLog();
      const program = programFor(runtime.container.image, this.#options.programs);
      if (program) this.#run(runtime, pod, program.path);
      this.#report(runtime);
    }, delay);
  }

  /** Graceful stop of a pod being deleted, then its removal from the API (grace 0: it is gone). */
  #terminate(runtime: Runtime, graceMs: number): Promise<void> {
    runtime.terminating ??= (async () => {
      clearTimeout(runtime.restartTimer);
      this.#stopProbes(runtime);
      runtime.ready = false;
      this.#report(runtime);
      if (runtime.process) await runtime.process.stop(graceMs, graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
      runtime.gone = true;
      await runtime.release?.();
      this.#pods.delete(runtime.key);
      this.#options.network.release(runtime.ip);
      const pod = this.#store.get('pods', runtime.namespace, runtime.name);
      if (pod && pod.metadata.uid === runtime.uid) {
        this.#store.delete('pods', runtime.namespace, runtime.name, { gracePeriodSeconds: 0 });
      }
    })();
    return runtime.terminating;
  }

  #services(namespace: string): LinkedService[] {
    return this.#store.list('services', { namespace }).items.map((service) => {
      const spec = specOf<{ clusterIP?: string; ports?: Array<{ name?: string; port: number; protocol?: string }> }>(
        service,
      );
      return { name: service.metadata.name, clusterIp: spec.clusterIP ?? '', ports: spec.ports ?? [] };
    });
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** Writes the pod's status as the kubelet sees it now (only when it changed). */
  #report(runtime: Runtime): void {
    if (runtime.gone || this.#stopped) return;
    const pod = this.#store.get('pods', runtime.namespace, runtime.name);
    if (!pod || pod.metadata.uid !== runtime.uid) return;
    const now = this.#now();
    const previous = statusOf<PodStatus>(pod);
    const running = runtime.process !== undefined;
    const ready = running && runtime.ready && !runtime.terminating;
    let conditions = runtime.conditions;
    for (const type of ['ContainersReady', 'Ready']) {
      const before = conditionOf(previous.conditions, type);
      const next: Condition = { type, status: ready ? 'True' : 'False' };
      conditions = withCondition(
        conditions,
        before?.status === next.status ? { ...next, lastTransitionTime: before.lastTransitionTime } : next,
        now,
      );
    }
    runtime.conditions = conditions;
    const containerStatus: ContainerStatus = {
      name: runtime.container.name,
      image: runtime.container.image,
      ready,
      started: running,
      restartCount: runtime.restarts,
      ...(runtime.process?.pid !== undefined && { containerID: `process://${runtime.process.pid}` }),
      state: runtime.state,
      ...(runtime.lastState && { lastState: runtime.lastState }),
    };
    const everStarted = runtime.startedAt !== undefined;
    const status: PodStatus = {
      phase: everStarted ? 'Running' : 'Pending',
      hostIP: '127.0.0.1',
      podIP: runtime.ip,
      podIPs: [{ ip: runtime.ip }],
      startTime: timestamp(runtime.podStartedAt),
      conditions,
      containerStatuses: [containerStatus],
    };
    if (JSON.stringify(previous) === JSON.stringify(status)) return;
    this.#store.mutate('pods', runtime.namespace, runtime.name, (object) => (object.status = { ...status }));
  }
}

const isClient = (image: Image | undefined): image is ClientImage =>
  image === 'addr-client-grpc' || image === 'addr-client-http';

async function* followLog(log: ContainerLog, kept: string[], signal: AbortSignal): AsyncIterable<string> {
  const queue = kept.map((line) => `${line}\n`);
  let ended = log.closed;
  let wake: (() => void) | undefined;
  const unfollow = log.follow((line) => {
    if (line === undefined) ended = true;
    else queue.push(`${line}\n`);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    while (!signal.aborted) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    unfollow();
    signal.removeEventListener('abort', onAbort);
  }
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGTERM: 15,
  SIGABRT: 6,
};
const signalNumber = (signal: NodeJS.Signals | null): number => (signal ? (SIGNALS[signal] ?? 0) : 0);
