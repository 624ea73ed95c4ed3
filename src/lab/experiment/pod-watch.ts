// What happens to the pods, as events with the time they were seen: created, ready, not ready,
// terminating (deleted: out of the endpoints, then SIGTERM), gone, and a container restarted — each with
// the pod's IP and the Deployment it belongs to. Read from the API (a watch on pods), as `kubectl get
// pods -w` sees them, on the lab's API or a cluster's (cluster-api.ts): the experiment's recorder, the lab's
// progress lines and its live view all follow this one stream. Observers only: nothing here changes the pods.
import { EventEmitter } from 'node:events';
import type { KubeObject } from '../api/store.js';
import { controllerOf, podIsReady, statusOf, type PodStatus } from '../controllers/objects.js';
import { deploymentOfPod, type ClusterApi } from './cluster-api.js';

export type PodEventKind = 'created' | 'ready' | 'unready' | 'terminating' | 'gone' | 'restarted';

export interface PodEvent {
  kind: PodEventKind;
  /** ms on the watcher's clock (performance.now() unless given) */
  t: number;
  pod: string;
  /** '' until the kubelet has given the pod its IP */
  ip: string;
  /** the Deployment the pod's ReplicaSet belongs to ('' for a pod of none) */
  deployment: string;
  /** the ReplicaSet (its pod-template-hash tells the template) */
  replicaSet: string;
  restarts: number;
  /** being deleted */
  terminating: boolean;
}

interface Seen {
  ip: string;
  /** said: the pod's 'created' went out (once it has an IP, so that the line can name it) */
  announced: boolean;
  ready: boolean;
  terminating: boolean;
  restarts: number;
  deployment: string;
  replicaSet: string;
}

export class PodWatch extends EventEmitter<{ pod: [PodEvent] }> {
  readonly #api: Pick<ClusterApi, 'watch'>;
  readonly #now: () => number;
  readonly #seen = new Map<string, Seen>();
  #watcher: { stop(): void } | undefined;

  constructor(api: Pick<ClusterApi, 'watch'>, now: () => number = () => performance.now()) {
    super();
    this.#api = api;
    this.#now = now;
  }

  start(): this {
    this.#watcher = this.#api.watch('pods', (type, object) => this.#observe(type === 'DELETED', object));
    return this;
  }

  stop(): void {
    this.#watcher?.stop();
  }

  /** The pods seen and not gone: name → what is known of it. */
  get pods(): ReadonlyMap<string, Readonly<Seen>> {
    return this.#seen;
  }

  #observe(deleted: boolean, pod: KubeObject): void {
    const name = pod.metadata.name;
    const status = statusOf<PodStatus>(pod);
    const previous = this.#seen.get(name);
    const replicaSet = controllerOf(pod)?.name ?? '';
    const seen: Seen = {
      ip: status.podIP ?? previous?.ip ?? '',
      announced: previous?.announced ?? false,
      ready: !deleted && podIsReady(pod),
      terminating: pod.metadata.deletionTimestamp !== undefined,
      restarts: (status.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
      deployment: previous?.deployment || deploymentOfPod(pod),
      replicaSet,
    };
    const emit = (kind: PodEventKind) =>
      this.emit('pod', {
        kind,
        t: this.#now(),
        pod: name,
        ip: seen.ip,
        deployment: seen.deployment,
        replicaSet,
        restarts: seen.restarts,
        terminating: seen.terminating,
      });
    if (!seen.announced && (seen.ip !== '' || deleted)) {
      seen.announced = true;
      emit('created');
    }
    if (seen.restarts > (previous?.restarts ?? 0)) emit('restarted');
    if (seen.terminating && !previous?.terminating) emit('terminating');
    if (seen.ready && !previous?.ready) emit('ready');
    if (!seen.ready && previous?.ready) emit('unready');
    if (deleted) {
      this.#seen.delete(name);
      emit('gone');
    } else this.#seen.set(name, seen);
  }
}

/** How the lab's progress lines say a pod event; undefined for one not worth a line (a terminating pod turning unready). */
export function podEventText(event: PodEvent): string | undefined {
  if (event.kind === 'unready' && event.terminating) return undefined;
  const who = `pod ${event.ip || event.pod}`;
  switch (event.kind) {
    case 'created':
      return `${who} created`;
    case 'ready':
      return `${who} ready: in the endpoints`;
    case 'unready':
      return `${who} not ready: out of the endpoints`;
    case 'terminating':
      return `${who} terminating: out of the endpoints, then SIGTERM`;
    case 'gone':
      return `${who} gone`;
    case 'restarted':
      return `${who} container restarted (${event.restarts} restart${event.restarts === 1 ? '' : 's'})`;
  }
}
