// The emulated cluster, built as a cluster is: the Kubernetes API over a store of objects (api/), the
// controllers that are its clients — Deployments → ReplicaSets → Pods, Services → EndpointSlices
// (controllers/) — the kubelet of the lab's one node, which runs each pod as a real process at its own
// pod IP (node/), kube-proxy, which gives every Service port its L4 proxy, and the cluster DNS, which
// answers for the headless Services (data-plane/). Manifests are applied to the API as kubectl applies
// them; everything else follows from the objects. Data flows one way: API objects → controllers → pods →
// endpoints → proxies.
// Where a pod reaches something by its in-cluster name (node/in-cluster.ts), the cluster says where the lab
// serves it: kube-proxy's listener for a Service port, the DNS, its kubeconfig in place of a token, a sidecar
// for a meshed pod, or a stand-in the lab runs for a Service whose pods it cannot run (nginx for a Gateway's
// Envoy, its own ADS server for an xDS control plane).
import { rmSync } from 'node:fs';
import { KubeApiServer } from './api/api-server.js';
import { writeKubeconfig } from './api/kubeconfig.js';
import type { KubeObject } from './api/store.js';
import { ObjectStore } from './api/store.js';
import { isAddressInUse, PortInUseError } from '../common/errors.js';
import { DeploymentController } from './controllers/deployment.js';
import { EndpointSliceController } from './controllers/endpointslice.js';
import { ReplicaSetController } from './controllers/replicaset.js';
import type { BalancerName } from './data-plane/balancer.js';
import { DnsServer, serviceOfName } from './data-plane/dns-server.js';
import { ServiceEndpoints } from './data-plane/endpoints.js';
import { KubeProxy } from './data-plane/kube-proxy.js';
import { accrualFromAnnotations, requestTimeoutFromAnnotations } from './data-plane/linkerd-annotations.js';
import { Mesh } from './data-plane/mesh.js';
import type { Programs } from './node/images.js';
import type { InCluster, Served } from './node/in-cluster.js';
import { Kubelet } from './node/kubelet.js';
import type { LinkedService } from './node/kubelet-env.js';
import { DEFAULT_POD_CIDR, PodNetwork } from './node/pod-network.js';

export { DEFAULT_POD_CIDR };
export const NAMESPACE = 'grpc-lb';
export const NODE_NAME = 'lab';
export const MAX_REPLICAS = 20;
/** The cluster domain, as kind and kubeadm set it. */
export const CLUSTER_DOMAIN = 'cluster.local';

export interface ClusterOptions {
  programs: Programs;
  /** the pod network, a /24 inside 127.0.0.0/8: pods get .8, .9, … (kind's pods are in 10.244.0.0/16) */
  podCidr?: string;
  /** origins besides the API's own that may change state (the dashboard's) */
  allowedOrigins?: string[];
  /** told of what a controller or the kubelet could not do (they go on) */
  onError?: (error: unknown) => void;
  /** whether pods get addresses of their own; found out when absent (only 127.0.0.1 on macOS) */
  ownPodAddresses?: boolean;
  /** where to write the kubeconfig for the lab's API (default: a file in the temporary folder, removed at stop) */
  kubeconfig?: string;
  /** told of what the lab does in place of what a pod's manifest asks (node/in-cluster.ts), once per ReplicaSet */
  say?: (line: string) => void;
  /** told of each sidecar the lab starts for a meshed pod */
  onSidecar?: (name: string, mesh: Mesh) => void;
}

/** A sidecar over a Service, and what its annotations asked that the mesh could not read. */
export interface Sidecar {
  mesh: Mesh;
  warnings: string[];
}

/** ClusterIPs are labels here, from kind's Service range: the lab's Services are reached on their NodePorts. */
const API_SERVER: LinkedService = {
  name: 'kubernetes',
  clusterIp: '10.96.0.1',
  ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
};

export class Cluster {
  readonly store = new ObjectStore();
  readonly network: PodNetwork;
  readonly api: KubeApiServer;
  readonly kubelet: Kubelet;
  readonly kubeProxy: KubeProxy;
  readonly #deployments: DeploymentController;
  readonly #replicaSets: ReplicaSetController;
  readonly #endpointSlices: EndpointSliceController;
  readonly dns: DnsServer;
  readonly #endpoints = new Map<string, ServiceEndpoints>();
  readonly #standIns = new Map<string, { ports: readonly number[] | undefined; served: Served }>();
  readonly #options: ClusterOptions;
  #kubeconfig = '';
  #nextClusterIp = 10;

  constructor(options: ClusterOptions) {
    const { onError } = options;
    this.#options = options;
    this.network = new PodNetwork(options.podCidr);
    this.kubelet = new Kubelet(this.store, {
      nodeName: NODE_NAME,
      programs: options.programs,
      network: this.network,
      apiServer: API_SERVER,
      onError,
      inCluster: (pod) => this.#podInCluster(pod),
      say: options.say,
    });
    this.dns = new DnsServer((name) => {
      const of = serviceOfName(name, CLUSTER_DOMAIN);
      return of && this.#headless(of.namespace, of.service) ? this.endpoints(of.service, of.namespace) : undefined;
    });
    this.#deployments = new DeploymentController(this.store, { onError });
    this.#replicaSets = new ReplicaSetController(this.store, { nodeName: NODE_NAME, onError });
    this.#endpointSlices = new EndpointSliceController(this.store, { onError });
    this.kubeProxy = new KubeProxy(this.store, (ip, port) => this.network.dial(ip, port));
    this.api = new KubeApiServer({
      store: this.store,
      maxReplicas: MAX_REPLICAS,
      allowedOrigins: options.allowedOrigins,
      podLogs: (request) => this.kubelet.logs(request),
    });
  }

  /** Listens for the API (PortInUseError when taken), then starts the controllers, the kubelet and kube-proxy. */
  async start(apiPort: number): Promise<void> {
    try {
      await this.api.listen(apiPort);
    } catch (error) {
      throw isAddressInUse(error)
        ? new PortInUseError(apiPort, 'the Kubernetes API', '127.0.0.1', { cause: error })
        : error;
    }
    await this.network.probe(this.#options.ownPodAddresses);
    await this.dns.listen(0);
    this.#kubeconfig = await writeKubeconfig(this.api.url, this.#options.kubeconfig);
    for (const name of ['default', NAMESPACE]) {
      this.store.create('namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
        status: { phase: 'Active' },
      });
    }
    this.store.create('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: API_SERVER.clusterIp,
        clusterIPs: [API_SERVER.clusterIp],
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.api.port }],
      },
    });
    this.#deployments.start();
    this.#replicaSets.start();
    this.#endpointSlices.start();
    this.kubelet.start();
    this.kubeProxy.start();
  }

  /**
   * Creates each object in `namespace`, or updates the one there (its spec, labels and annotations), as
   * `kubectl apply` does; then waits until kube-proxy listens for every Service port (PortInUseError if a
   * NodePort is taken). Services get a ClusterIP (a label: kube-proxy serves each port on 127.0.0.1).
   */
  async apply(objects: readonly KubeObject[], namespace = NAMESPACE): Promise<KubeObject[]> {
    // Only what the lab runs: the other kinds a manifest may hold (RBAC, a Namespace) are notes of loadManifests.
    const runnable = objects.filter((object) => object.kind === 'Deployment' || object.kind === 'Service');
    const applied = runnable.map((object) => {
      const resource = resourceOf(object.kind);
      const copy = structuredClone(object);
      copy.metadata = { ...copy.metadata, namespace };
      const current = this.store.get(resource, namespace, copy.metadata.name);
      if (resource === 'services') {
        const spec = (copy.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[] };
        const clusterIp =
          spec.clusterIP === 'None'
            ? 'None'
            : ((current?.spec as { clusterIP?: string } | undefined)?.clusterIP ?? `10.96.0.${this.#nextClusterIp++}`);
        copy.spec = { ...spec, clusterIP: clusterIp, clusterIPs: [clusterIp] };
      }
      if (!current) return this.store.create(resource, copy);
      return this.store.mutate(resource, namespace, copy.metadata.name, (object) => {
        object.spec = copy.spec;
        object.metadata.labels = copy.metadata.labels;
        object.metadata.annotations = { ...copy.metadata.annotations, ...keptAnnotations(object) };
        for (const [key, value] of Object.entries(copy)) {
          if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key)) object[key] = value;
        }
      });
    });
    await this.kubeProxy.ready();
    return applied;
  }

  /** Deletes an object as `kubectl delete` does (a Deployment takes its ReplicaSets and pods with it). */
  delete(kind: string, name: string, namespace = NAMESPACE): void {
    const resource = resourceOf(kind);
    if (this.store.get(resource, namespace, name)) this.store.delete(resource, namespace, name);
  }

  /** The ready endpoints of a Service, followed as they change (one view per Service, kept until stop). */
  endpoints(service: string, namespace = NAMESPACE): ServiceEndpoints {
    const key = `${namespace}/${service}`;
    let endpoints = this.#endpoints.get(key);
    if (!endpoints) {
      endpoints = new ServiceEndpoints(this.store, namespace, service, (ip, port) => this.network.dial(ip, port));
      this.#endpoints.set(key, endpoints);
    }
    return endpoints;
  }

  /** The kubeconfig for the lab's API (written at start). */
  get kubeconfig(): string {
    return this.#kubeconfig;
  }

  /**
   * Something the lab runs in place of a Service's pods, served at `served` for `ports` (every port when
   * absent): pods that name the Service reach it there (node/in-cluster.ts).
   */
  standIn(service: string, served: Served, ports?: readonly number[]): void {
    this.#standIns.set(service, { ports, served });
  }

  /** What pods reach by name, as the lab serves it; a meshed pod's sidecar from `sidecar`. */
  inCluster(sidecar: (service: string) => Promise<Served>, namespace = NAMESPACE): InCluster {
    return {
      namespace,
      domain: CLUSTER_DOMAIN,
      service: (name) => {
        if (this.#standIns.has(name)) return { headless: false };
        const object = this.store.get('services', namespace, name);
        return object ? { headless: this.#headless(namespace, name) } : undefined;
      },
      port: (name, port) => {
        const standIn = this.#standIns.get(name);
        if (standIn) return !standIn.ports || standIn.ports.includes(port) ? standIn.served : undefined;
        const address = this.kubeProxy.clusterAddress(namespace, name, port);
        return address && { address, by: `kube-proxy's listener for the Service ${name}'s port ${port}` };
      },
      dns: { host: '127.0.0.1', port: this.dns.port },
      kubeconfig: this.#kubeconfig,
      sidecar,
    };
  }

  /**
   * A mesh sidecar over a Service, with the failure accrual and request timeout its annotations ask for,
   * as Linkerd reads them (data-plane/linkerd-annotations.ts); not listening yet.
   */
  sidecar(service: string, balancer: BalancerName, namespace = NAMESPACE): Sidecar {
    const annotations = this.store.get('services', namespace, service)?.metadata.annotations;
    const accrual = accrualFromAnnotations(annotations);
    const timeout = requestTimeoutFromAnnotations(annotations);
    const mesh = new Mesh(this.endpoints(service, namespace), {
      balancer,
      accrual: accrual.policy,
      requestTimeoutMs: timeout.timeoutMs,
    });
    const warnings = [accrual.warning, timeout.warning].flatMap((warning) =>
      warning ? [`Service ${service}: ${warning}`] : [],
    );
    return { mesh, warnings };
  }

  #headless(namespace: string, service: string): boolean {
    const object = this.store.get('services', namespace, service);
    return (object?.spec as { clusterIP?: string } | undefined)?.clusterIP === 'None';
  }

  /** The client pods' side of the rewrites: a sidecar per meshed pod, closed when the pod goes. */
  #podInCluster(pod: { namespace: string; name: string }): { lab: InCluster; release(): Promise<void> } {
    const meshes: Mesh[] = [];
    // The pod stands for one on a cluster, where the proxy injected beside it is Linkerd's: p2c over peak
    // EWMA (https://linkerd.io/docs/features/load-balancing/), whatever the lab's own mesh is set to.
    const lab = this.inCluster(async (service) => {
      const { mesh, warnings } = this.sidecar(service, 'p2c-ewma', pod.namespace);
      for (const warning of warnings) this.#options.say?.(`lab: ${warning}`);
      meshes.push(mesh);
      this.#options.onSidecar?.(`${pod.name}'s sidecar`, mesh);
      const port = await mesh.listen(0);
      return {
        address: { host: '127.0.0.1', port },
        by: `the lab's sidecar over the Service ${service} (Linkerd's p2c over peak EWMA, and what its annotations ask)`,
      };
    }, pod.namespace);
    return { lab, release: async () => void (await Promise.allSettled(meshes.map((mesh) => mesh.close()))) };
  }

  /** Stops every pod (a short grace: the lab going away need not wait for drains), then the rest. */
  async stop(): Promise<void> {
    this.#deployments.stop();
    this.#replicaSets.stop();
    this.#endpointSlices.stop();
    await this.kubelet.stop();
    for (const endpoints of this.#endpoints.values()) endpoints.close();
    await Promise.allSettled([this.kubeProxy.stop(), this.api.close(), this.dns.close()]);
    if (this.#kubeconfig && !this.#options.kubeconfig) rmSync(this.#kubeconfig, { force: true });
  }
}

/** Annotations the controllers own on an object, kept when a manifest is applied over it. */
function keptAnnotations(object: KubeObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(object.metadata.annotations ?? {}).filter(([key]) => key.startsWith('deployment.kubernetes.io/')),
  );
}

function resourceOf(
  kind: string,
): 'deployments' | 'services' | 'namespaces' | 'replicasets' | 'pods' | 'endpointslices' {
  switch (kind) {
    case 'Deployment':
      return 'deployments';
    case 'Service':
      return 'services';
    case 'Namespace':
      return 'namespaces';
    case 'ReplicaSet':
      return 'replicasets';
    case 'Pod':
      return 'pods';
    case 'EndpointSlice':
      return 'endpointslices';
    default:
      throw new Error(`the lab stores no ${kind}`);
  }
}
