// kube-proxy for the lab's node: it follows the Services and their endpoints in the API and gives every
// port of a Service with a virtual IP (ClusterIP, NodePort, LoadBalancer; not a headless one) an L4 proxy
// that picks a ready pod per TCP connection (service-proxy.ts):
//   - where a process in the cluster reaches it: the lab's ClusterIPs are labels (it sets no iptables
//     rules and no addresses for them), so each Service port listens on 127.0.0.1 on a port of its own
//     (chosen free), which `clusterAddress` names — the lab's processes are pointed there instead of at
//     SERVICE:PORT (node/in-cluster.ts);
//   - for a NodePort Service, also on its NodePort on 127.0.0.1, as the node's port. A NodePort the Service
//     leaves empty (or 0) is chosen here and written back into the Service, as the API server allocates
//     one on a cluster.
// A Service without a selector gets neither: nothing writes its endpoints in the lab.
import type { KubeObject, ObjectStore, Watcher } from '../api/store.js';
import { isAddressInUse, PortInUseError } from '../../common/errors.js';
import { ServiceEndpoints, type Dial, type Endpoint } from './endpoints.js';
import { ServiceProxy } from './service-proxy.js';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  selector?: Record<string, string>;
  ports?: ServicePort[];
}

interface Listener {
  /** the port it listens on (127.0.0.1): the one asked for (0: any) until it is bound */
  port: number;
  /** the Service's own port number, and its name */
  servicePort: ServicePort;
  proxy: ServiceProxy;
  bound: Promise<void>;
}

/** Which container port a Service port reaches: the kit's pods serve `http` and `grpc`. */
const isGrpc = (port: ServicePort) =>
  port.name === 'grpc' || port.targetPort === 'grpc' || port.appProtocol === 'kubernetes.io/h2c';

const portKey = (port: ServicePort) => String(port.name ?? port.port);

export class KubeProxy {
  readonly #store: ObjectStore;
  readonly #dial: Dial;
  readonly #endpoints = new Map<string, ServiceEndpoints>();
  /** NodePort listeners, by namespace/service/port */
  readonly #nodePorts = new Map<string, Listener>();
  /** the ClusterIP's stand-ins on 127.0.0.1, by namespace/service/port */
  readonly #clusterPorts = new Map<string, Listener>();
  #watcher: Watcher | undefined;
  #failure: Error | undefined;

  constructor(store: ObjectStore, dial: Dial) {
    this.#store = store;
    this.#dial = dial;
  }

  start(): void {
    this.#watcher = this.#store.watch('services', {}, ({ type, object }) => {
      if (type === 'DELETED') this.#forget(object);
      else if (type !== 'BOOKMARK') this.#follow(object);
    });
    for (const service of this.#store.list('services').items) this.#follow(service);
  }

  /** Resolves once every Service port is listening; rejects with the first that could not (PortInUseError). */
  async ready(): Promise<void> {
    // What was just written may not have reached the watch yet: take the Services as they are now.
    for (const service of this.#store.list('services').items) this.#follow(service);
    await Promise.all([...this.#nodePorts.values(), ...this.#clusterPorts.values()].map((listener) => listener.bound));
    if (this.#failure) throw this.#failure;
  }

  /** The NodePort proxy of a Service port, for those who count what it did (the live view, the metrics). */
  proxy(namespace: string, service: string, port: string): ServiceProxy | undefined {
    return this.#nodePorts.get(`${namespace}/${service}/${port}`)?.proxy;
  }

  /** The NodePort a Service port listens on now. */
  nodePort(namespace: string, service: string, port: string): number | undefined {
    return this.#nodePorts.get(`${namespace}/${service}/${port}`)?.port;
  }

  /** Where a process reaches a Service port (by its number or its name) in place of CLUSTER-IP:PORT. */
  clusterAddress(
    namespace: string,
    service: string,
    port: number | string,
  ): { host: string; port: number } | undefined {
    const prefix = `${namespace}/${service}/`;
    for (const [key, listener] of this.#clusterPorts) {
      if (!key.startsWith(prefix) || listener.port === 0) continue;
      if (listener.servicePort.port === port || listener.servicePort.name === port)
        return { host: '127.0.0.1', port: listener.port };
    }
    return undefined;
  }

  async stop(): Promise<void> {
    this.#watcher?.stop();
    for (const endpoints of this.#endpoints.values()) endpoints.close();
    const all = [...this.#nodePorts.values(), ...this.#clusterPorts.values()];
    await Promise.allSettled(all.map((listener) => listener.proxy.close()));
    this.#nodePorts.clear();
    this.#clusterPorts.clear();
  }

  #follow(service: KubeObject): void {
    const { namespace = 'default', name } = service.metadata;
    const spec = service.spec as ServiceSpec;
    if (spec.clusterIP === 'None' || !spec.selector) return this.#forget(service);
    const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const keys = new Set<string>();
    for (const port of spec.ports ?? []) {
      const key = `${namespace}/${name}/${portKey(port)}`;
      keys.add(key);
      if (!this.#clusterPorts.has(key)) this.#clusterPorts.set(key, this.#listen(namespace, name, port, 0));
      if (!nodePorts) continue;
      const existing = this.#nodePorts.get(key);
      if (existing && (existing.port === port.nodePort || !port.nodePort)) continue;
      if (existing) void existing.proxy.close();
      const listener = this.#listen(namespace, name, port, port.nodePort ?? 0, true);
      this.#nodePorts.set(key, listener);
    }
    // Ports the Service no longer has, and NodePorts of a Service that is no longer of that type.
    for (const map of [this.#clusterPorts, this.#nodePorts]) {
      for (const [key, listener] of map) {
        if (!key.startsWith(`${namespace}/${name}/`)) continue;
        if (keys.has(key) && (map === this.#clusterPorts || nodePorts)) continue;
        void listener.proxy.close();
        map.delete(key);
      }
    }
  }

  #listen(namespace: string, name: string, port: ServicePort, wanted: number, nodePort = false): Listener {
    let endpoints = this.#endpoints.get(`${namespace}/${name}`);
    if (!endpoints) {
      endpoints = new ServiceEndpoints(this.#store, namespace, name, this.#dial);
      this.#endpoints.set(`${namespace}/${name}`, endpoints);
    }
    const grpc = isGrpc(port);
    const proxy = new ServiceProxy(endpoints, (endpoint: Endpoint) => (grpc ? endpoint.grpcPort : endpoint.httpPort));
    const listener: Listener = { port: wanted, servicePort: port, proxy, bound: Promise.resolve() };
    listener.bound = proxy.listen(wanted).then(
      (bound) => {
        listener.port = bound;
        if (nodePort && bound !== wanted) this.#writeBack(namespace, name, port, bound);
      },
      (error: unknown) => {
        const what = nodePort
          ? `the Service ${name}'s ${portKey(port)} NodePort`
          : `the Service ${name}'s ${portKey(port)} port`;
        this.#failure ??= isAddressInUse(error)
          ? new PortInUseError(wanted, what, '127.0.0.1', { cause: error })
          : (error as Error);
        (nodePort ? this.#nodePorts : this.#clusterPorts).delete(`${namespace}/${name}/${portKey(port)}`);
      },
    );
    return listener;
  }

  #writeBack(namespace: string, name: string, port: ServicePort, nodePort: number): void {
    if (!this.#store.get('services', namespace, name)) return;
    this.#store.mutate('services', namespace, name, (object) => {
      const ports = (object.spec as { ports?: ServicePort[] }).ports ?? [];
      for (const p of ports) if ((p.name ?? p.port) === (port.name ?? port.port)) p.nodePort = nodePort;
    });
  }

  #forget(service: KubeObject): void {
    const prefix = `${service.metadata.namespace}/${service.metadata.name}/`;
    for (const map of [this.#nodePorts, this.#clusterPorts]) {
      for (const [key, listener] of map) {
        if (!key.startsWith(prefix)) continue;
        void listener.proxy.close();
        map.delete(key);
      }
    }
    const endpoints = this.#endpoints.get(`${service.metadata.namespace}/${service.metadata.name}`);
    endpoints?.close();
    this.#endpoints.delete(`${service.metadata.namespace}/${service.metadata.name}`);
  }
}
