// The Deployment controller, a client of the API as on a cluster (k8s.io/kubernetes pkg/controller/
// deployment): each Deployment owns one ReplicaSet per pod template it has had. A changed template
// (`kubectl rollout restart`, `set env`, `set image`, `rollout undo`) makes or finds the ReplicaSet of the
// new template — its pod-template-hash in its name, its revision one more than any before — and moves the
// pods over: with RollingUpdate the new ReplicaSet grows within maxSurge and old ones shrink while enough
// pods stay available (rollout.ts), gated on readiness; with Recreate the old pods all go first. A change
// of replicas alone scales the active ReplicaSet(s). The status (replicas, updated, ready, available,
// observedGeneration, the Available and Progressing conditions) is what `kubectl rollout status` reads.
import type { KubeObject, ObjectStore, Watcher } from '../api/store.js';
import { podTemplateHash } from './names.js';
import {
  canonical,
  type Condition,
  controllerOf,
  controllerRef,
  dependentsOf,
  type DeploymentSpec,
  DESIRED_REPLICAS,
  isControlledBy,
  MAX_REPLICAS,
  type PodStatus,
  type PodTemplate,
  type ReplicaSetSpec,
  type ReplicaSetStatus,
  REVISION,
  sameJson,
  specOf,
  statusOf,
  TEMPLATE_HASH,
  withCondition,
} from './objects.js';
import { keyOf, splitKey, WorkQueue } from './queue.js';
import {
  newReplicaSetReplicas,
  proportionalSizes,
  resolveFenceposts,
  scaleDownOldReplicaSets,
  type Fenceposts,
} from './rollout.js';

export interface DeploymentControllerOptions {
  now?: () => Date;
  onError?: (error: unknown) => void;
}

/** Annotations of the Deployment a ReplicaSet does not inherit (skipCopyAnnotation). */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

const DEFAULT_HISTORY = 10;

const revisionOf = (rs: KubeObject): number => Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
const replicasOf = (rs: KubeObject): number => specOf<ReplicaSetSpec>(rs).replicas ?? 0;
const rsStatus = (rs: KubeObject): ReplicaSetStatus => statusOf<ReplicaSetStatus>(rs);

/** A template without the pod-template-hash label: how a ReplicaSet's template is compared to a Deployment's. */
function withoutHash(template: PodTemplate): PodTemplate {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) {
    const { [TEMPLATE_HASH]: _hash, ...labels } = copy.metadata.labels;
    if (Object.keys(labels).length === 0) delete copy.metadata.labels;
    else copy.metadata.labels = labels;
  }
  return copy;
}

export class DeploymentController {
  readonly #store: ObjectStore;
  readonly #options: DeploymentControllerOptions;
  readonly #queue: WorkQueue;
  readonly #watchers: Watcher[] = [];

  constructor(store: ObjectStore, options: DeploymentControllerOptions = {}) {
    this.#store = store;
    this.#options = options;
    this.#queue = new WorkQueue(
      (key) => this.#sync(key),
      (_key, error) => options.onError?.(error),
    );
  }

  start(): void {
    const store = this.#store;
    const enqueueOwner = (object: KubeObject) => {
      const owner = controllerOf(object);
      if (owner?.kind === 'Deployment') this.#queue.add(keyOf(object.metadata.namespace, owner.name));
    };
    this.#watchers.push(
      store.watch('deployments', {}, ({ object }) =>
        this.#queue.add(keyOf(object.metadata.namespace, object.metadata.name)),
      ),
      store.watch('replicasets', {}, ({ object }) => enqueueOwner(object)),
      // Recreate waits for the old pods to be gone, which changes no ReplicaSet's status.
      store.watch('pods', {}, ({ type, object }) => {
        if (type !== 'DELETED') return;
        const owner = controllerOf(object);
        if (owner?.kind !== 'ReplicaSet') return;
        const rs = store.get('replicasets', object.metadata.namespace, owner.name);
        if (rs) enqueueOwner(rs);
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
    const deployment = store.get('deployments', namespace, name);
    const owned = dependentsOf(store, 'replicasets', namespace, 'Deployment', name, deployment);
    if (!deployment || deployment.metadata.deletionTimestamp) {
      // Deleted: its ReplicaSets go too (the garbage collector's background propagation).
      for (const rs of owned) store.delete('replicasets', namespace, rs.metadata.name);
      return;
    }
    const spec = specOf<DeploymentSpec>(deployment);
    const desired = spec.replicas ?? 1;
    const fenceposts =
      spec.strategy?.type === 'Recreate'
        ? { maxSurge: 0, maxUnavailable: desired }
        : resolveFenceposts(
            spec.strategy?.rollingUpdate?.maxSurge,
            spec.strategy?.rollingUpdate?.maxUnavailable,
            desired,
          );

    const template = withoutHash(spec.template);
    const byCreation = [...owned].sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        revisionOf(a) - revisionOf(b) ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
    let fresh = byCreation.find((rs) => sameJson(withoutHash(specOf<ReplicaSetSpec>(rs).template), template));
    const old = byCreation.filter((rs) => rs !== fresh);

    if (spec.paused) return this.#syncStatus(deployment, fresh, owned, fenceposts);

    // A change of replicas alone: scale what is there (DeploymentController.sync → scale).
    if (fresh && this.#isScalingEvent(owned, desired)) {
      this.#scale(deployment, fresh, old, desired, fenceposts);
      return this.#syncStatus(deployment, fresh, this.#owned(deployment), fenceposts);
    }

    let created: boolean;
    if (spec.strategy?.type === 'Recreate') {
      const active = old.filter((rs) => replicasOf(rs) > 0);
      if (active.length > 0) {
        for (const rs of active) this.#scaleReplicaSet(rs, 0, desired, fenceposts);
        return this.#syncStatus(deployment, fresh, this.#owned(deployment), fenceposts);
      }
      if (this.#oldPodsRunning(old)) return this.#syncStatus(deployment, fresh, owned, fenceposts);
      created = !fresh;
      fresh = this.#newReplicaSet(deployment, fresh, old, 0, fenceposts);
      if (replicasOf(fresh) !== desired) this.#scaleReplicaSet(fresh, desired, desired, fenceposts);
    } else {
      const all = old.reduce((sum, rs) => sum + replicasOf(rs), 0) + (fresh ? replicasOf(fresh) : 0);
      const target = newReplicaSetReplicas(desired, all, fresh ? replicasOf(fresh) : 0, fenceposts.maxSurge);
      created = !fresh;
      fresh = this.#newReplicaSet(deployment, fresh, old, target, fenceposts);
      if (replicasOf(fresh) !== target) this.#scaleReplicaSet(fresh, target, desired, fenceposts);
      else {
        const current = this.#store.read('replicasets', namespace, fresh.metadata.name);
        const sizes = scaleDownOldReplicaSets(
          desired,
          fenceposts.maxUnavailable,
          old.map((rs) => ({
            name: rs.metadata.name,
            replicas: replicasOf(rs),
            available: rsStatus(rs).availableReplicas ?? 0,
          })),
          { replicas: replicasOf(current), available: rsStatus(current).availableReplicas ?? 0 },
        );
        for (const rs of old) {
          const size = sizes.get(rs.metadata.name);
          if (size !== undefined && size !== replicasOf(rs)) this.#scaleReplicaSet(rs, size, desired, fenceposts);
        }
      }
    }
    this.#cleanup(deployment, this.#owned(deployment), fresh);
    const latest = this.#store.get('replicasets', namespace, fresh.metadata.name);
    this.#syncStatus(deployment, latest, this.#owned(deployment), fenceposts, created);
  }

  #owned(deployment: KubeObject): KubeObject[] {
    return this.#store
      .list('replicasets', { namespace: deployment.metadata.namespace })
      .items.filter((rs) => isControlledBy(rs, deployment));
  }

  /** Whether an active ReplicaSet was last sized for another replica count (isScalingEvent). */
  #isScalingEvent(owned: KubeObject[], desired: number): boolean {
    return owned.some((rs) => {
      if (replicasOf(rs) === 0) return false;
      const annotated = rs.metadata.annotations?.[DESIRED_REPLICAS];
      return annotated !== undefined && Number(annotated) !== desired;
    });
  }

  #scale(deployment: KubeObject, fresh: KubeObject, old: KubeObject[], desired: number, fenceposts: Fenceposts): void {
    const active = [...old, fresh].filter((rs) => replicasOf(rs) > 0);
    if (active.length <= 1) {
      // One active ReplicaSet (or none: the newest): it takes the whole count.
      const target = active[0] ?? fresh;
      this.#scaleReplicaSet(target, desired, desired, fenceposts);
      return;
    }
    const saturated = replicasOf(fresh) === desired && (rsStatus(fresh).availableReplicas ?? 0) >= desired;
    if (saturated) {
      for (const rs of old) if (replicasOf(rs) > 0) this.#scaleReplicaSet(rs, 0, desired, fenceposts);
      return;
    }
    const sizes = proportionalSizes(
      active.map((rs) => ({ name: rs.metadata.name, replicas: replicasOf(rs) })),
      desired,
      spec(deployment).strategy?.type === 'Recreate' ? 0 : fenceposts.maxSurge,
    );
    for (const rs of active)
      this.#scaleReplicaSet(rs, sizes.get(rs.metadata.name) ?? replicasOf(rs), desired, fenceposts);
  }

  #oldPodsRunning(old: KubeObject[]): boolean {
    if (old.some((rs) => (rsStatus(rs).replicas ?? 0) > 0)) return true;
    const pods = this.#store.list('pods', { namespace: old[0]?.metadata.namespace }).items;
    return pods.some((pod) => {
      const phase = statusOf<PodStatus>(pod).phase;
      return old.some((rs) => isControlledBy(pod, rs)) && phase !== 'Failed' && phase !== 'Succeeded';
    });
  }

  /** The ReplicaSet of the current template, made if missing; its revision raised above all others. */
  #newReplicaSet(
    deployment: KubeObject,
    existing: KubeObject | undefined,
    old: KubeObject[],
    replicas: number,
    fenceposts: Fenceposts,
  ): KubeObject {
    const { namespace } = deployment.metadata;
    const revision = String(old.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0) + 1);
    const desired = spec(deployment).replicas ?? 1;
    const annotations = (rs: KubeObject | undefined) => ({
      ...Object.fromEntries(
        Object.entries(deployment.metadata.annotations ?? {}).filter(([key]) => !NOT_COPIED.has(key)),
      ),
      ...rs?.metadata.annotations,
      [REVISION]: existing && revisionOf(existing) >= Number(revision) ? String(revisionOf(existing)) : revision,
      [DESIRED_REPLICAS]: String(desired),
      [MAX_REPLICAS]: String(desired + fenceposts.maxSurge),
    });
    let rs = existing;
    if (rs) {
      const wanted = annotations(rs);
      if (!sameJson(rs.metadata.annotations, wanted)) {
        rs = this.#store.mutate(
          'replicasets',
          namespace,
          rs.metadata.name,
          (object) => (object.metadata.annotations = wanted),
        );
      }
    } else {
      rs = this.#createReplicaSet(deployment, replicas, annotations(undefined));
    }
    const current = rs.metadata.annotations?.[REVISION];
    if (deployment.metadata.annotations?.[REVISION] !== current) {
      this.#store.mutate('deployments', namespace, deployment.metadata.name, (object) => {
        object.metadata.annotations = { ...object.metadata.annotations, [REVISION]: current as string };
      });
    }
    return rs;
  }

  #createReplicaSet(deployment: KubeObject, replicas: number, annotations: Record<string, string>): KubeObject {
    const { namespace, name } = deployment.metadata;
    const spec = specOf<DeploymentSpec>(deployment);
    let collisions = statusOf<{ collisionCount?: number }>(deployment).collisionCount ?? 0;
    for (;;) {
      const hash = podTemplateHash(withoutHash(spec.template), collisions);
      const rsName = `${name}-${hash}`;
      const taken = this.#store.get('replicasets', namespace, rsName);
      if (taken && !isControlledBy(taken, deployment)) {
        collisions += 1;
        continue;
      }
      if (taken) {
        // Same name, another template: a hash collision; Kubernetes bumps status.collisionCount and retries.
        collisions += 1;
        const count = collisions;
        this.#store.mutate('deployments', namespace, name, (object) => {
          object.status = { ...object.status, collisionCount: count };
        });
        continue;
      }
      const labels = { ...spec.template.metadata?.labels, [TEMPLATE_HASH]: hash };
      return this.#store.create('replicasets', {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace,
          labels,
          annotations,
          ownerReferences: [controllerRef(deployment)],
        },
        spec: {
          replicas,
          minReadySeconds: spec.minReadySeconds ?? 0,
          selector: {
            ...spec.selector,
            matchLabels: { ...spec.selector.matchLabels, [TEMPLATE_HASH]: hash },
          },
          template: {
            ...spec.template,
            metadata: { ...spec.template.metadata, labels },
          },
        },
        status: { replicas: 0 },
      });
    }
  }

  #scaleReplicaSet(rs: KubeObject, replicas: number, desired: number, fenceposts: Fenceposts): void {
    this.#store.mutate('replicasets', rs.metadata.namespace, rs.metadata.name, (object) => {
      (object.spec as { replicas?: number }).replicas = replicas;
      object.metadata.annotations = {
        ...object.metadata.annotations,
        [DESIRED_REPLICAS]: String(desired),
        [MAX_REPLICAS]: String(desired + fenceposts.maxSurge),
      };
    });
  }

  /** Old ReplicaSets with no pods, beyond revisionHistoryLimit, go: the oldest revisions first. */
  #cleanup(deployment: KubeObject, owned: KubeObject[], fresh: KubeObject): void {
    const limit = spec(deployment).revisionHistoryLimit ?? DEFAULT_HISTORY;
    const cleanable = owned
      .filter(
        (rs) => rs.metadata.name !== fresh.metadata.name && replicasOf(rs) === 0 && (rsStatus(rs).replicas ?? 0) === 0,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of cleanable.slice(0, Math.max(0, cleanable.length - limit))) {
      this.#store.delete('replicasets', rs.metadata.namespace, rs.metadata.name);
    }
  }

  #syncStatus(
    deployment: KubeObject,
    fresh: KubeObject | undefined,
    owned: KubeObject[],
    fenceposts: Fenceposts,
    created = false,
  ): void {
    const current = this.#store.get('deployments', deployment.metadata.namespace, deployment.metadata.name);
    if (!current) return;
    const desired = spec(current).replicas ?? 1;
    const sum = (pick: (rs: KubeObject) => number) => owned.reduce((total, rs) => total + pick(rs), 0);
    const replicas = sum((rs) => rsStatus(rs).replicas ?? 0);
    const updated = fresh ? (rsStatus(fresh).replicas ?? 0) : 0;
    const ready = sum((rs) => rsStatus(rs).readyReplicas ?? 0);
    const available = sum((rs) => rsStatus(rs).availableReplicas ?? 0);
    const unavailable = Math.max(0, sum(replicasOf) - available);
    const now = this.#now();
    const previous = statusOf<{ conditions?: Condition[]; collisionCount?: number }>(current);
    let conditions = withCondition(
      previous.conditions,
      available >= desired - fenceposts.maxUnavailable
        ? {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          }
        : {
            type: 'Available',
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          },
      now,
      true,
    );
    const complete = updated === desired && replicas === desired && available === desired;
    const rsName = fresh?.metadata.name ?? current.metadata.name;
    const progressing: Condition = complete
      ? {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${rsName}" has successfully progressed.`,
        }
      : created
        ? {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetCreated',
            message: `Created new replica set "${rsName}"`,
          }
        : {
            type: 'Progressing',
            status: 'True',
            reason: 'ReplicaSetUpdated',
            message: `ReplicaSet "${rsName}" is progressing.`,
          };
    conditions = withCondition(conditions, progressing, now, true);
    const status = {
      observedGeneration: current.metadata.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(unavailable > 0 && { unavailableReplicas: unavailable }),
      ...(previous.collisionCount !== undefined && { collisionCount: previous.collisionCount }),
      conditions,
    };
    if (!sameJson(current.status, status)) {
      this.#store.mutate(
        'deployments',
        current.metadata.namespace,
        current.metadata.name,
        (object) => (object.status = status),
      );
    }
  }
}

const spec = (deployment: KubeObject) => specOf<DeploymentSpec>(deployment);

/** For tests and reports: whether two templates are the same one (the hash label aside). */
export const sameTemplate = (a: PodTemplate, b: PodTemplate): boolean =>
  canonical(withoutHash(a)) === canonical(withoutHash(b));
