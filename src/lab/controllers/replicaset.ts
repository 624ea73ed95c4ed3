// The ReplicaSet controller, a client of the API as on a cluster: for each ReplicaSet it keeps
// spec.replicas pods (its template's labels and annotations, owned by it) by creating the missing and
// deleting the extra — the ones Kubernetes would pick first (getPodsToDelete: not yet running before
// running, not ready before ready, ready for less time first, more restarts first, newer first) — and
// reports in its status how many it has, ready and available. A deleted pod is terminated gracefully by
// its kubelet (the API marks it); a ReplicaSet counts only pods not being deleted, so the replacement
// starts while the old pod drains.
import type { KubeObject, ObjectStore, Watcher } from '../api/store.js';
import { nameSuffix } from './names.js';
import {
  conditionOf,
  controllerOf,
  controllerRef,
  dependentsOf,
  isControlledBy,
  podIsActive,
  podIsAvailable,
  podIsReady,
  type PodStatus,
  type ReplicaSetSpec,
  type ReplicaSetStatus,
  sameJson,
  selects,
  specOf,
  statusOf,
} from './objects.js';
import { keyOf, splitKey, WorkQueue } from './queue.js';

export interface ReplicaSetOptions {
  /** the node pods are bound to (the lab has one; there is no scheduler) */
  nodeName: string;
  now?: () => Date;
  onError?: (error: unknown) => void;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

export class ReplicaSetController {
  readonly #store: ObjectStore;
  readonly #options: ReplicaSetOptions;
  readonly #queue: WorkQueue;
  readonly #watchers: Watcher[] = [];
  /** The order this controller created pods in: creationTimestamp has only seconds. */
  readonly #created = new Map<string, number>();
  #sequence = 0;

  constructor(store: ObjectStore, options: ReplicaSetOptions) {
    this.#store = store;
    this.#options = options;
    this.#queue = new WorkQueue(
      (key) => this.#sync(key),
      (_key, error) => options.onError?.(error),
    );
  }

  start(): void {
    this.#watchers.push(
      this.#store.watch('replicasets', {}, ({ object }) =>
        this.#queue.add(keyOf(object.metadata.namespace, object.metadata.name)),
      ),
      this.#store.watch('pods', {}, ({ object }) => {
        const owner = controllerOf(object);
        if (owner?.kind === 'ReplicaSet') this.#queue.add(keyOf(object.metadata.namespace, owner.name));
      }),
    );
  }

  stop(): void {
    this.#watchers.forEach((watcher) => watcher.stop());
    this.#queue.stop();
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const store = this.#store;
    const rs = store.get('replicasets', namespace, name);
    const owned = dependentsOf(store, 'pods', namespace, 'ReplicaSet', name, rs);
    if (!rs || rs.metadata.deletionTimestamp) {
      // The ReplicaSet is gone: its pods go too, as the garbage collector deletes dependents.
      for (const pod of owned) if (!pod.metadata.deletionTimestamp) this.#deletePod(pod);
      return;
    }
    const spec = specOf<ReplicaSetSpec>(rs);
    const active = owned.filter(podIsActive);
    const wanted = spec.replicas ?? 1;
    if (active.length < wanted) {
      for (let i = active.length; i < wanted; i++) this.#createPod(rs);
    } else if (active.length > wanted) {
      for (const pod of this.#victims(active, active.length - wanted)) this.#deletePod(pod);
    }
    this.#report(
      rs,
      store.list('pods', { namespace }).items.filter((pod) => isControlledBy(pod, rs) && podIsActive(pod)),
    );
  }

  #createPod(rs: KubeObject): void {
    const spec = specOf<ReplicaSetSpec>(rs);
    const template = structuredClone(spec.template);
    for (let attempt = 0; attempt < 5; attempt++) {
      const name = `${rs.metadata.name}-${nameSuffix()}`;
      if (this.#store.get('pods', rs.metadata.namespace, name)) continue;
      this.#created.set(keyOf(rs.metadata.namespace, name), this.#sequence++);
      this.#store.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: rs.metadata.namespace,
          labels: { ...template.metadata?.labels },
          ...(template.metadata?.annotations && { annotations: { ...template.metadata.annotations } }),
          ownerReferences: [controllerRef(rs)],
        },
        // No scheduler: every pod is bound to the lab's one node at once.
        spec: { ...template.spec, nodeName: this.#options.nodeName },
        status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
      });
      return;
    }
  }

  #deletePod(pod: KubeObject): void {
    const grace = specOf<{ terminationGracePeriodSeconds?: number }>(pod).terminationGracePeriodSeconds;
    this.#store.delete('pods', pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: grace });
    this.#created.delete(keyOf(pod.metadata.namespace, pod.metadata.name));
  }

  /** The `count` pods Kubernetes would delete first (controller.ActivePodsWithRanks on one node). */
  #victims(pods: KubeObject[], count: number): KubeObject[] {
    const rank = (pod: KubeObject) => {
      const status = statusOf<PodStatus>(pod);
      const ready = conditionOf(status.conditions, 'Ready');
      return {
        assigned: specOf<{ nodeName?: string }>(pod).nodeName ? 1 : 0,
        phase: PHASE_RANK[status.phase ?? 'Pending'] ?? 0,
        ready: podIsReady(pod) ? 1 : 0,
        readySince: ready?.status === 'True' && ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0,
        restarts: (status.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
        created:
          this.#created.get(keyOf(pod.metadata.namespace, pod.metadata.name)) ??
          (Date.parse(pod.metadata.creationTimestamp ?? '') || 0),
      };
    };
    return [...pods]
      .map((pod) => ({ pod, r: rank(pod) }))
      .sort(
        (a, b) =>
          a.r.assigned - b.r.assigned ||
          a.r.phase - b.r.phase ||
          a.r.ready - b.r.ready ||
          (a.r.ready && b.r.ready ? b.r.readySince - a.r.readySince : 0) ||
          b.r.restarts - a.r.restarts ||
          b.r.created - a.r.created,
      )
      .slice(0, count)
      .map(({ pod }) => pod);
  }

  #report(rs: KubeObject, active: KubeObject[]): void {
    const minReady = specOf<ReplicaSetSpec>(rs).minReadySeconds ?? 0;
    const now = this.#now();
    const status: ReplicaSetStatus = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((pod) => selects(specOf<ReplicaSetSpec>(rs).selector, pod.metadata.labels))
        .length,
      readyReplicas: active.filter(podIsReady).length,
      availableReplicas: active.filter((pod) => podIsAvailable(pod, minReady, now)).length,
      observedGeneration: rs.metadata.generation,
    };
    if (!sameJson(rs.status, status)) {
      this.#store.mutate(
        'replicasets',
        rs.metadata.namespace,
        rs.metadata.name,
        (object) => (object.status = { ...status }),
      );
    }
    // Pods ready but not yet for minReadySeconds turn available later, with no event to say so.
    if ((status.readyReplicas ?? 0) > (status.availableReplicas ?? 0)) {
      setTimeout(() => this.#queue.add(keyOf(rs.metadata.namespace, rs.metadata.name)), 1000).unref();
    }
  }
}
