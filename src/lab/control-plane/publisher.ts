// What the API shows and what it can change. The lab's controllers (deployment.ts and its pods) own
// the processes; this keeps the store's objects — the Deployment and its status, the pods, the
// Services, an EndpointSlice — in step with them, as the controllers and kubelets of a cluster report
// theirs. Two things come back the other way, as on a cluster: a Deployment's spec.replicas written
// through the API (kubectl scale) scales it, and a pod deleted through the API is terminated.
import { ApiError } from '../api/status.js';
import type { Deployment } from './deployment.js';
import type { Doc, Manifest } from './manifest.js';
import type { Pod } from './pod.js';
import type { KubeObject, ObjectStore, Watcher } from '../api/store.js';

export interface ServiceAddresses {
  clusterIp: (service: string) => string;
  /** the NodePorts the lab's Service proxies listen on, by Service port name */
  nodePorts: Record<string, number>;
}

const timestamp = (date: Date) => date.toISOString().replace(/\.\d+Z$/, 'Z');
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class Publisher {
  readonly #watchers: Watcher[] = [];
  readonly #template: Doc;
  readonly #labels: Record<string, string>;
  readonly #sliceName: string;
  #scheduled = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly namespace: string,
    private readonly manifest: Manifest,
    private readonly deployment: Deployment,
    private readonly templateHash: string,
  ) {
    this.#template = (manifest.objects.deployment.spec as { template: Doc }).template;
    this.#labels = ((this.#template.metadata as Doc | undefined)?.labels ?? {}) as Record<string, string>;
    this.#sliceName = `${manifest.services[0]?.name ?? manifest.deployment}-${templateHash.slice(0, 5)}`;
  }

  /** Writes the namespace, the Deployment and the Services, then follows both directions. */
  start(addresses: ServiceAddresses): void {
    const { store, namespace, manifest } = this;
    for (const name of ['default', namespace]) {
      if (!store.get('namespaces', undefined, name))
        store.create('namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name },
          status: { phase: 'Active' },
        });
    }
    const deployment = structuredClone(manifest.objects.deployment) as unknown as KubeObject;
    deployment.metadata = { ...deployment.metadata, namespace };
    (deployment.spec as Doc).replicas = this.deployment.replicas;
    store.create('deployments', { ...deployment, status: {} });
    for (const doc of manifest.objects.services) {
      const service = structuredClone(doc) as unknown as KubeObject;
      const spec = service.spec as {
        clusterIP?: string;
        clusterIPs?: string[];
        ports: Array<{ name?: string; nodePort?: number }>;
      };
      const clusterIp = addresses.clusterIp(service.metadata.name);
      Object.assign(spec, { clusterIP: clusterIp, clusterIPs: [clusterIp] });
      for (const port of spec.ports)
        if (port.name && addresses.nodePorts[port.name]) port.nodePort = addresses.nodePorts[port.name];
      store.create('services', { ...service, metadata: { ...service.metadata, namespace } });
    }
    this.#publish();
    this.deployment.on('change', () => this.#schedule());
    this.#watchers.push(
      store.watch(
        'deployments',
        { namespace, fieldSelector: `metadata.name=${manifest.deployment}` },
        ({ type, object }) => {
          const replicas = (object.spec as { replicas?: number } | undefined)?.replicas;
          if (type === 'MODIFIED' && typeof replicas === 'number' && replicas !== this.deployment.replicas)
            this.deployment.scale(replicas);
        },
      ),
      store.watch('pods', { namespace }, ({ type, object }) => {
        const { name, deletionTimestamp, deletionGracePeriodSeconds } = object.metadata;
        if (type === 'DELETED') void this.deployment.delete(name, 0);
        else if (deletionTimestamp) void this.deployment.delete(name, (deletionGracePeriodSeconds ?? 30) * 1000);
      }),
    );
  }

  stop(): void {
    this.#watchers.forEach((watcher) => watcher.stop());
  }

  /** The pod's output, for `kubectl logs`. */
  logs(name: string): string {
    const pod = this.deployment.allPods.find((p) => p.name === name);
    if (!pod) throw new ApiError(404, 'NotFound', `pods "${name}" not found`);
    return pod.logs();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#publish();
    });
  }

  #publish(): void {
    const { store, namespace } = this;
    const pods = this.deployment.allPods;
    const names = new Set(pods.map((pod) => pod.name));
    for (const object of store.list('pods', { namespace }).items) {
      if (!names.has(object.metadata.name))
        store.delete('pods', namespace, object.metadata.name, { gracePeriodSeconds: 0 });
    }
    for (const pod of pods) {
      const stored = store.get('pods', namespace, pod.name);
      const status = this.#podStatus(pod);
      if (!stored) store.create('pods', this.#podObject(pod, status));
      else if (!same(stored.status, status))
        store.mutate('pods', namespace, pod.name, (object) => (object.status = status));
      if (pod.phase === 'Terminating' && !store.get('pods', namespace, pod.name)?.metadata.deletionTimestamp) {
        store.delete('pods', namespace, pod.name, {
          gracePeriodSeconds: this.manifest.terminationGracePeriodMs / 1000,
        });
      }
    }
    this.#publishDeployment();
    this.#publishSlice();
  }

  #podObject(pod: Pod, status: Doc): KubeObject {
    const { manifest, namespace, templateHash } = this;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.name,
        namespace,
        labels: { ...this.#labels, 'pod-template-hash': templateHash },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: `${manifest.deployment}-${templateHash}`,
            controller: true,
          },
        ],
      },
      spec: { ...structuredClone(this.#template.spec as Doc), nodeName: 'lab' },
      status,
    };
  }

  #podStatus(pod: Pod): Doc {
    const running = pod.phase === 'Running' || pod.phase === 'Terminating';
    const ready = pod.ready && pod.phase === 'Running';
    const condition = (type: string, value: boolean) => ({ type, status: value ? 'True' : 'False' });
    const container = (this.#template.spec as { containers: Array<{ name: string; image: string }> }).containers[0];
    return {
      phase: running ? 'Running' : 'Pending',
      hostIP: '127.0.0.1',
      podIP: pod.ip,
      podIPs: [{ ip: pod.ip }],
      startTime: timestamp(pod.startedAt),
      conditions: [
        condition('PodScheduled', true),
        condition('Initialized', true),
        condition('ContainersReady', ready),
        condition('Ready', ready),
      ],
      containerStatuses: [
        {
          name: container?.name,
          image: container?.image,
          ready,
          started: running,
          restartCount: 0,
          // the container's process on this machine: `kill -STOP` it to hang the pod
          ...(pod.pid !== undefined && { containerID: `process://${pod.pid}` }),
          state: running
            ? { running: { startedAt: timestamp(pod.startedAt) } }
            : { waiting: { reason: 'ContainerCreating' } },
        },
      ],
    };
  }

  #publishDeployment(): void {
    const { store, namespace, manifest, deployment } = this;
    const stored = store.get('deployments', namespace, manifest.deployment);
    if (!stored) return;
    if ((stored.spec as { replicas?: number }).replicas !== deployment.replicas) {
      store.mutate(
        'deployments',
        namespace,
        manifest.deployment,
        (object) => ((object.spec as Doc).replicas = deployment.replicas),
      );
    }
    const live = deployment.pods; // not terminating
    const ready = live.filter((pod) => pod.ready).length;
    const wanted = deployment.replicas;
    const current = store.read('deployments', namespace, manifest.deployment);
    const status = {
      observedGeneration: current.metadata.generation,
      replicas: live.length,
      updatedReplicas: live.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(live.length > ready && { unavailableReplicas: live.length - ready }),
      conditions: [
        {
          type: 'Available',
          status: ready >= wanted ? 'True' : 'False',
          reason: ready >= wanted ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
      ],
    };
    if (!same(current.status, status))
      store.mutate('deployments', namespace, manifest.deployment, (object) => (object.status = status));
  }

  #publishSlice(): void {
    const { store, namespace, manifest } = this;
    const service = manifest.services[0];
    if (!service) return;
    const endpoints = this.deployment.allPods
      .filter((pod) => pod.endpoint)
      .map((pod) => {
        const terminating = pod.phase === 'Terminating';
        return {
          addresses: [pod.ip],
          conditions: { ready: pod.ready && !terminating, serving: pod.ready, terminating },
          nodeName: 'lab',
          targetRef: { kind: 'Pod', name: pod.name, namespace },
        };
      });
    const ports = service.ports.map((port) => ({
      name: port.name,
      protocol: port.protocol,
      port: typeof port.targetPort === 'string' ? manifest.ports[port.targetPort] : (port.targetPort ?? port.port),
    }));
    const slice: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: this.#sliceName,
        namespace,
        labels: {
          'kubernetes.io/service-name': service.name,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
      },
      addressType: 'IPv4',
      ports,
      endpoints,
    };
    const stored = store.get('endpointslices', namespace, this.#sliceName);
    if (!stored) store.create('endpointslices', slice);
    else if (!same(stored.endpoints, endpoints) || !same(stored.ports, ports)) {
      store.mutate('endpointslices', namespace, this.#sliceName, (object) =>
        Object.assign(object, { endpoints, ports }),
      );
    }
  }
}
