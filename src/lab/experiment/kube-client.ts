// A cluster's API through @kubernetes/client-node, as the engine needs it (cluster-api.ts): one namespace,
// and only the requests any API server serves — read, replace, create and delete a Deployment; list and
// delete pods; list and watch pods, Deployments and EndpointSlices — so that the same code drives a kind
// cluster, a cloud one, or the lab's own API. Objects come back as plain JSON, as the store keeps them.
// A watch is client-node's informer: it lists again after 410 Gone and reopens a watch that timed out; on
// any other error it stops, so it is started again after a backoff (1 s doubling up to 10 s).
import type * as K8s from '@kubernetes/client-node';
import type { KubeObject } from '../api/store.js';
import type { ClusterApi, WatchedResource, WatchHandler } from './cluster-api.js';

type ClientNode = typeof K8s;

/** Plain JSON, as the API sent it (client-node turns timestamps into Dates). */
const plain = (object: unknown): KubeObject => JSON.parse(JSON.stringify(object)) as KubeObject;

/** Whether client-node's error is the API's 404 (or 409). */
const codeOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
};

export class KubeClient implements ClusterApi {
  readonly #k8s: ClientNode;
  readonly #config: K8s.KubeConfig;
  readonly #apps: K8s.AppsV1Api;
  readonly #core: K8s.CoreV1Api;
  readonly #discovery: K8s.DiscoveryV1Api;

  constructor(
    k8s: ClientNode,
    config: K8s.KubeConfig,
    readonly namespace: string,
    /** told when a watch failed and will be opened again */
    private readonly onWatchError: (resource: string, error: unknown) => void = () => undefined,
  ) {
    this.#k8s = k8s;
    this.#config = config;
    this.#apps = config.makeApiClient(k8s.AppsV1Api);
    this.#core = config.makeApiClient(k8s.CoreV1Api);
    this.#discovery = config.makeApiClient(k8s.DiscoveryV1Api);
  }

  get config(): K8s.KubeConfig {
    return this.#config;
  }

  async getDeployment(name: string): Promise<KubeObject | undefined> {
    try {
      return plain(await this.#apps.readNamespacedDeployment({ name, namespace: this.namespace }));
    } catch (error) {
      if (codeOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Deployments labelled `labelSelector`. */
  async listDeployments(labelSelector?: string): Promise<KubeObject[]> {
    const list = await this.#apps.listNamespacedDeployment({ namespace: this.namespace, labelSelector });
    return list.items.map(plain);
  }

  async updateDeployment(name: string, change: (deployment: KubeObject) => void): Promise<void> {
    // Optimistic concurrency, as kubectl's edits: a write over a newer version is 409, then read again.
    for (let attempt = 1; ; attempt++) {
      const deployment = plain(await this.#apps.readNamespacedDeployment({ name, namespace: this.namespace }));
      change(deployment);
      try {
        await this.#apps.replaceNamespacedDeployment({
          name,
          namespace: this.namespace,
          body: deployment as unknown as K8s.V1Deployment,
        });
        return;
      } catch (error) {
        if (codeOf(error) !== 409 || attempt >= 5) throw error;
      }
    }
  }

  async createDeployment(deployment: KubeObject): Promise<void> {
    await this.#apps.createNamespacedDeployment({
      namespace: this.namespace,
      body: { ...deployment, metadata: { ...deployment.metadata, namespace: this.namespace } } as K8s.V1Deployment,
    });
  }

  async deleteDeployment(name: string): Promise<void> {
    try {
      // kubectl delete's default: the Deployment goes now, its ReplicaSets and pods after it (background).
      await this.#apps.deleteNamespacedDeployment({ name, namespace: this.namespace, propagationPolicy: 'Background' });
    } catch (error) {
      if (codeOf(error) !== 404) throw error;
    }
  }

  async listPods(): Promise<KubeObject[]> {
    return (await this.#core.listNamespacedPod({ namespace: this.namespace })).items.map(plain);
  }

  async deletePod(name: string, gracePeriodSeconds?: number): Promise<void> {
    try {
      await this.#core.deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds });
    } catch (error) {
      if (codeOf(error) !== 404) throw error;
    }
  }

  watch(resource: WatchedResource, handler: WatchHandler): { stop(): void } {
    const namespace = this.namespace;
    const paths: Record<WatchedResource, [string, () => Promise<K8s.KubernetesListObject<K8s.KubernetesObject>>]> = {
      pods: [`/api/v1/namespaces/${namespace}/pods`, () => this.#core.listNamespacedPod({ namespace })],
      deployments: [
        `/apis/apps/v1/namespaces/${namespace}/deployments`,
        () => this.#apps.listNamespacedDeployment({ namespace }),
      ],
      endpointslices: [
        `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
        () => this.#discovery.listNamespacedEndpointSlice({ namespace }),
      ],
    };
    const [path, list] = paths[resource];
    const informer = this.#k8s.makeInformer(this.#config, path, list);
    let stopped = false;
    let failures = 0;
    let retry: NodeJS.Timeout | undefined;
    informer.on('add', (object) => handler('ADDED', plain(object)));
    informer.on('update', (object) => handler('MODIFIED', plain(object)));
    informer.on('delete', (object) => handler('DELETED', plain(object)));
    const start = () => {
      if (stopped) return;
      informer.start().catch((error: unknown) => fail(error));
    };
    const fail = (error: unknown) => {
      if (stopped) return;
      this.onWatchError(resource, error);
      clearTimeout(retry);
      retry = setTimeout(start, Math.min(10_000, 1000 * 2 ** Math.min(failures++, 4)));
    };
    informer.on('error', (error: unknown) => fail(error));
    informer.on('connect', () => (failures = 0));
    start();
    return {
      stop: () => {
        stopped = true;
        clearTimeout(retry);
        void informer.stop().catch(() => undefined);
      },
    };
  }
}
