// What the experiment engine needs of a cluster, and nothing more: the operations a user has on one
// namespace through the Kubernetes API (read, change, create and delete a Deployment; list and delete pods)
// and watches of its pods and Deployments. Two clusters offer it: the lab's own store, in the lab's process
// (StoreApi, below), and any cluster through @kubernetes/client-node (kube-client.ts) — so that one engine
// runs a scenario against either, and a step does to a real cluster what it does to the lab.
import type { KubeObject, ObjectStore } from '../api/store.js';
import { controllerOf, TEMPLATE_HASH } from '../controllers/objects.js';

export type WatchedResource = 'pods' | 'deployments' | 'endpointslices';
export type WatchHandler = (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject) => void;

export interface ClusterApi {
  readonly namespace: string;
  getDeployment(name: string): Promise<KubeObject | undefined>;
  /** Reads the Deployment, changes it, writes it back (again from a fresh read if it changed meanwhile). */
  updateDeployment(name: string, change: (deployment: KubeObject) => void): Promise<void>;
  createDeployment(deployment: KubeObject): Promise<void>;
  deleteDeployment(name: string): Promise<void>;
  listPods(): Promise<KubeObject[]>;
  /** gracePeriodSeconds 0: at once (kubectl delete pod --grace-period=0 --force) */
  deletePod(name: string, gracePeriodSeconds?: number): Promise<void>;
  /** Every object there now (ADDED), then each change, until stopped. Objects are plain JSON. */
  watch(resource: WatchedResource, handler: WatchHandler): { stop(): void };
}

/**
 * The Deployment a pod belongs to, from its ReplicaSet's name: the Deployment controller names each
 * ReplicaSet DEPLOYMENT-HASH, the pod-template-hash its pods are labelled with (kubernetes
 * pkg/controller/deployment/sync.go, getNewReplicaSet: `Name: d.Name + "-" + podTemplateSpecHash`). '' for
 * a pod of no Deployment.
 */
export function deploymentOfPod(pod: KubeObject): string {
  const owner = controllerOf(pod);
  const hash = pod.metadata.labels?.[TEMPLATE_HASH];
  if (owner?.kind !== 'ReplicaSet' || !hash || !owner.name.endsWith(`-${hash}`)) return '';
  return owner.name.slice(0, -hash.length - 1);
}

/** The lab's store as a cluster: the same operations, on the objects the lab's controllers follow. */
export class StoreApi implements ClusterApi {
  constructor(
    readonly store: ObjectStore,
    readonly namespace: string,
  ) {}

  async getDeployment(name: string): Promise<KubeObject | undefined> {
    return this.store.get('deployments', this.namespace, name);
  }

  async updateDeployment(name: string, change: (deployment: KubeObject) => void): Promise<void> {
    this.store.mutate('deployments', this.namespace, name, change);
  }

  async createDeployment(deployment: KubeObject): Promise<void> {
    this.store.create('deployments', {
      ...deployment,
      metadata: { ...deployment.metadata, namespace: this.namespace },
    });
  }

  async deleteDeployment(name: string): Promise<void> {
    if (this.store.get('deployments', this.namespace, name)) this.store.delete('deployments', this.namespace, name);
  }

  async listPods(): Promise<KubeObject[]> {
    return this.store.list('pods', { namespace: this.namespace }).items;
  }

  async deletePod(name: string, gracePeriodSeconds?: number): Promise<void> {
    this.store.delete('pods', this.namespace, name, gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds });
  }

  watch(resource: WatchedResource, handler: WatchHandler): { stop(): void } {
    const watcher = this.store.watch(resource, { namespace: this.namespace }, ({ type, object }) => {
      if (type !== 'BOOKMARK') handler(type, object);
    });
    return { stop: () => watcher.stop() };
  }
}
