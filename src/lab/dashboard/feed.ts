// What the dashboard shows, as events for its page: the pods and the Deployment as the Kubernetes API
// has them (a watch on the store, so a `kubectl scale` from a terminal shows at once), and each second a
// tick with what each of the lab's clients got from each pod and what the proxies sent each pod.
import { EventEmitter } from 'node:events';
import { compareIps } from '../../common/ip.js';
import type { KubeObject, Watcher } from '../api/store.js';
import type { Workload } from '../experiment/workload.js';
import type { LabView } from './lab-view.js';
import type { DeploymentView, FeedClient, PodView, Tick } from './wire.js';

interface FeedEvents {
  pods: [PodView[]];
  deployment: [DeploymentView];
  tick: [Tick];
}

const HISTORY_SECONDS = 120;

export class LiveFeed extends EventEmitter<FeedEvents> {
  readonly history: Tick[] = [];
  readonly #pods = new Map<string, PodView>();
  #deployment: DeploymentView = { replicas: 0, ready: 0 };
  readonly #watchers: Watcher[] = [];
  readonly #pending = new Map<string, { calls: Record<string, number>; errors: number }>();
  #timer: NodeJS.Timeout | undefined;
  #podsScheduled = false;

  constructor(
    private readonly lab: LabView,
    readonly clients: FeedClient[],
  ) {
    super();
    this.setMaxListeners(0); // one listener per open page, bounded by the dashboard
    for (const { id } of clients) this.#pending.set(id, { calls: {}, errors: 0 });
  }

  get pods(): PodView[] {
    return [...this.#pods.values()].sort((a, b) => compareIps(a.ip, b.ip) || a.name.localeCompare(b.name));
  }

  get deployment(): DeploymentView {
    return this.#deployment;
  }

  start(): void {
    const { store, namespace, deployment } = this.lab;
    this.#watchers.push(
      store.watch('pods', { namespace }, ({ type, object }) => {
        if (type === 'DELETED') this.#pods.delete(object.metadata.name);
        else this.#pods.set(object.metadata.name, podView(object));
        this.#schedulePods();
      }),
      store.watch('deployments', { namespace, fieldSelector: `metadata.name=${deployment}` }, ({ object }) => {
        const spec = object.spec as { replicas?: number };
        const status = object.status as { readyReplicas?: number } | undefined;
        this.#deployment = { replicas: spec.replicas ?? 0, ready: status?.readyReplicas ?? 0 };
        this.emit('deployment', this.#deployment);
      }),
    );
    this.#timer = setInterval(() => this.#tick(), 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#watchers.forEach((watcher) => watcher.stop());
  }

  /** Counts a client's replies and failures, from now on, under `id`. */
  follow(id: string, workload: Workload): void {
    const pending = this.#pending.get(id);
    if (!pending) throw new Error(`no client ${id} in the feed`);
    workload.on('call', (call) => {
      if (call.code === 'OK') pending.calls[call.pod] = (pending.calls[call.pod] ?? 0) + 1;
      else pending.errors += 1;
    });
  }

  #schedulePods(): void {
    if (this.#podsScheduled) return;
    this.#podsScheduled = true;
    queueMicrotask(() => {
      this.#podsScheduled = false;
      this.emit('pods', this.pods);
    });
  }

  #tick(): void {
    const { http, grpc, meshRequests } = this.lab;
    const tick: Tick = {
      t: Math.floor(Date.now() / 1000),
      calls: {},
      errors: {},
      service: {},
      mesh: Object.fromEntries(meshRequests),
    };
    for (const [id, pending] of this.#pending) {
      tick.calls[id] = pending.calls;
      tick.errors[id] = pending.errors;
      pending.calls = {};
      pending.errors = 0;
    }
    for (const [port, proxy] of [
      ['http', http],
      ['grpc', grpc],
    ] as const) {
      const pods: Record<string, [number, number]> = {};
      for (const [ip, opened] of proxy?.connections ?? []) pods[ip] = [proxy?.open.get(ip) ?? 0, opened];
      tick.service[port] = pods;
    }
    this.history.push(tick);
    if (this.history.length > HISTORY_SECONDS) this.history.shift();
    this.emit('tick', tick);
  }
}

function podView(object: KubeObject): PodView {
  const status = (object.status ?? {}) as {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
  };
  const ready = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const state = object.metadata.deletionTimestamp
    ? 'Terminating'
    : ready
      ? 'Ready'
      : status.phase === 'Running'
        ? 'Running'
        : 'Pending';
  return {
    name: object.metadata.name,
    ip: status.podIP ?? '',
    state,
    created: object.metadata.creationTimestamp ?? '',
  };
}
