// A small cluster in the store for the API's tests: the kit's Deployment, Service and EndpointSlice, and
// stand-ins for the controllers the lab runs (deployment, kubelet, endpoints), quick and in-process, so
// that kubectl sees pods come, turn ready, terminate and go as it would on a cluster.
import type { KubeObject, ObjectStore, Watcher } from '../../src/lab/api/store.js';

export const NS = 'grpc-lb';
const APP = { app: 'addr-server' };

export function seed(store: ObjectStore): void {
  for (const name of ['default', NS])
    store.create('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
      status: { phase: 'Active' },
    });
  store.create('deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'addr-server', namespace: NS, labels: APP },
    spec: {
      replicas: 1,
      selector: { matchLabels: APP },
      template: {
        metadata: { labels: APP },
        spec: {
          containers: [
            { name: 'addr-server', image: 'addr-server', ports: [{ containerPort: 8080 }, { containerPort: 30051 }] },
          ],
        },
      },
    },
    status: {},
  });
  store.create('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'addr-server', namespace: NS },
    spec: {
      type: 'NodePort',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      selector: APP,
      ports: [
        { name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' },
        { name: 'grpc', port: 30051, targetPort: 30051, nodePort: 30051, protocol: 'TCP' },
      ],
    },
  });
  store.create('endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'addr-server-7x2kq', namespace: NS, labels: { 'kubernetes.io/service-name': 'addr-server' } },
    addressType: 'IPv4',
    ports: [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'grpc', port: 30051, protocol: 'TCP' },
    ],
    endpoints: [],
  });
}

const isReady = (pod: KubeObject) =>
  !pod.metadata.deletionTimestamp &&
  (pod.status as { conditions?: Array<{ type: string; status: string }> }).conditions?.some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

/** The deployment controller, kubelet and endpoints controller in one, at a test's pace. */
export class TinyCluster {
  private readonly watchers: Watcher[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextIp = 8;
  private nextName = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly readyAfterMs = 150,
    private readonly terminateAfterMs = 150,
  ) {}

  start(): void {
    this.watchers.push(this.store.watch('deployments', { namespace: NS }, () => this.reconcile()));
    this.watchers.push(
      this.store.watch('pods', { namespace: NS }, (event) => {
        if (event.type === 'MODIFIED' && event.object.metadata.deletionTimestamp) this.terminate(event.object);
        this.publish();
      }),
    );
  }

  stop(): void {
    this.watchers.forEach((watcher) => watcher.stop());
    this.timers.forEach(clearTimeout);
  }

  private later(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      work();
    }, ms);
    this.timers.add(timer);
  }

  private pods(): KubeObject[] {
    return this.store.list('pods', { namespace: NS, labelSelector: 'app=addr-server' }).items;
  }

  private reconcile(): void {
    const deployment = this.store.get('deployments', NS, 'addr-server');
    if (!deployment) return;
    const wanted = Number(deployment.spec?.replicas ?? 1);
    const live = this.pods().filter((pod) => !pod.metadata.deletionTimestamp);
    for (let i = live.length; i < wanted; i++) this.createPod();
    // Scale-down removes the newest pods first, as a ReplicaSet does with equal pods.
    for (const pod of live
      .slice()
      .reverse()
      .slice(0, Math.max(0, live.length - wanted)))
      this.store.delete('pods', NS, pod.metadata.name);
    this.publish();
  }

  private createPod(): void {
    const ip = `127.244.0.${this.nextIp++}`;
    const name = `addr-server-5d8f7c9b4-${(this.nextName++).toString(36).padStart(5, 'q')}`;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: APP },
      spec: {
        nodeName: 'lab',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'addr-server', image: 'addr-server' }],
      },
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          { name: 'addr-server', ready: false, restartCount: 0, state: { running: { startedAt: now } } },
        ],
      },
    });
    this.later(this.readyAfterMs, () => {
      if (!this.store.get('pods', NS, name)) return;
      this.store.mutate('pods', NS, name, (pod) => {
        const status = pod.status as { conditions: unknown[]; containerStatuses: Array<{ ready: boolean }> };
        status.conditions = [{ type: 'Ready', status: 'True' }];
        (status.containerStatuses[0] as { ready: boolean }).ready = true;
      });
    });
  }

  private terminate(pod: KubeObject): void {
    this.later(this.terminateAfterMs, () => {
      if (this.store.get('pods', NS, pod.metadata.name))
        this.store.delete('pods', NS, pod.metadata.name, { gracePeriodSeconds: 0 });
      this.reconcile();
    });
  }

  /** Deployment status and the EndpointSlice, from the pods as they are now. */
  private publish(): void {
    const deployment = this.store.get('deployments', NS, 'addr-server');
    if (!deployment) return;
    const pods = this.pods();
    const live = pods.filter((pod) => !pod.metadata.deletionTimestamp);
    const ready = live.filter(isReady);
    const status = {
      observedGeneration: deployment.metadata.generation,
      replicas: pods.length,
      updatedReplicas: live.length,
      readyReplicas: ready.length,
      availableReplicas: ready.length,
      ...(ready.length < live.length && { unavailableReplicas: live.length - ready.length }),
      conditions: [
        {
          type: 'Available',
          status: ready.length >= Number(deployment.spec?.replicas) ? 'True' : 'False',
          reason: 'MinimumReplicasAvailable',
        },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
      ],
    };
    if (JSON.stringify(status) !== JSON.stringify(deployment.status))
      this.store.mutate('deployments', NS, 'addr-server', (d) => (d.status = status));
    const endpoints = ready.map((pod) => ({
      addresses: [(pod.status as { podIP: string }).podIP],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', name: pod.metadata.name, namespace: NS },
    }));
    const slice = this.store.get('endpointslices', NS, 'addr-server-7x2kq');
    if (slice && JSON.stringify(slice.endpoints) !== JSON.stringify(endpoints))
      this.store.mutate('endpointslices', NS, 'addr-server-7x2kq', (s) => (s.endpoints = endpoints));
  }
}

/**
 * What the Deployment controller writes for one revision of the Deployment (kubernetes
 * pkg/controller/deployment/sync.go getNewReplicaSet): a ReplicaSet named after the template's hash, its
 * template the Deployment's plus the pod-template-hash label, controlled by the Deployment, with the
 * revision annotation that `kubectl rollout history` and `undo` read.
 */
export function replicaSetOf(
  store: ObjectStore,
  revision: number,
  hash: string,
  replicas: number,
  annotations: Record<string, string> = {},
): KubeObject {
  const deployment = store.read('deployments', NS, 'addr-server');
  const spec = deployment.spec as { selector: { matchLabels: Record<string, string> }; template: KubeObject };
  const template = structuredClone(spec.template);
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, 'pod-template-hash': hash } };
  return store.create('replicasets', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `addr-server-${hash}`,
      namespace: NS,
      labels: template.metadata.labels,
      annotations: { 'deployment.kubernetes.io/revision': String(revision), ...annotations },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'addr-server',
          uid: deployment.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas,
      selector: { matchLabels: { ...spec.selector.matchLabels, 'pod-template-hash': hash } },
      template,
    },
    status: { replicas, fullyLabeledReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
  });
}
