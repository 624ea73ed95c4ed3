// kube-proxy for the lab's node: it follows the Services and their endpoints in the API and, for every
// port of a NodePort Service, listens on that NodePort (on 127.0.0.1) with an L4 proxy that picks a ready
// pod per TCP connection (service-proxy.ts). A NodePort the Service leaves empty (or 0) is chosen here
// and written back into the Service, as the API server allocates one on a cluster.
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

interface Listener {
  nodePort: number;
  proxy: ServiceProxy;
  bound: Promise<void>;
}

/** Which container port a Service port reaches: the kit's pods serve `http` and `grpc`. */
const isGrpc = (port: ServicePort) =>
  port.name === 'grpc' || port.targetPort === 'grpc' || port.appProtocol === 'kubernetes.io/h2c';

export class KubeProxy {
  readonly #store: ObjectStore;
  readonly #dial: Dial;
  readonly #endpoints = new Map<string, ServiceEndpoints>();
  readonly #listeners = new Map<string, Listener>();
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

  /** Resolves once every NodePort is listening; rejects with the first that could not (PortInUseError). */
  async ready(): Promise<void> {
    // What was just written may not have reached the watch yet: take the Services as they are now.
    for (const service of this.#store.list('services').items) this.#follow(service);
    await Promise.all([...this.#listeners.values()].map((listener) => listener.bound));
    if (this.#failure) throw this.#failure;
  }

  /** The proxy of a Service port, for those who count what it did (the live view, the metrics). */
  proxy(namespace: string, service: string, port: string): ServiceProxy | undefined {
    return this.#listeners.get(`${namespace}/${service}/${port}`)?.proxy;
  }

  /** The NodePort a Service port listens on now. */
  nodePort(namespace: string, service: string, port: string): number | undefined {
    return this.#listeners.get(`${namespace}/${service}/${port}`)?.nodePort;
  }

  async stop(): Promise<void> {
    this.#watcher?.stop();
    for (const endpoints of this.#endpoints.values()) endpoints.close();
    await Promise.allSettled([...this.#listeners.values()].map((listener) => listener.proxy.close()));
    this.#listeners.clear();
  }

  #follow(service: KubeObject): void {
    const { namespace = 'default', name } = service.metadata;
    const spec = service.spec as { type?: string; ports?: ServicePort[] };
    if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') return this.#forget(service);
    for (const port of spec.ports ?? []) {
      const key = `${namespace}/${name}/${port.name ?? port.port}`;
      const existing = this.#listeners.get(key);
      if (existing && (existing.nodePort === port.nodePort || !port.nodePort)) continue;
      if (existing) void existing.proxy.close();
      let endpoints = this.#endpoints.get(`${namespace}/${name}`);
      if (!endpoints) {
        endpoints = new ServiceEndpoints(this.#store, namespace, name, this.#dial);
        this.#endpoints.set(`${namespace}/${name}`, endpoints);
      }
      const grpc = isGrpc(port);
      const proxy = new ServiceProxy(endpoints, (endpoint: Endpoint) => (grpc ? endpoint.grpcPort : endpoint.httpPort));
      const wanted = port.nodePort ?? 0;
      const listener: Listener = { nodePort: wanted, proxy, bound: Promise.resolve() };
      listener.bound = proxy.listen(wanted).then(
        (bound) => {
          listener.nodePort = bound;
          if (bound !== wanted) this.#writeBack(namespace, name, port, bound);
        },
        (error: unknown) => {
          const what = `the Service ${name}'s ${port.name ?? port.port} NodePort`;
          this.#failure ??= isAddressInUse(error)
            ? new PortInUseError(wanted, what, '127.0.0.1', { cause: error })
            : (error as Error);
          this.#listeners.delete(key);
        },
      );
      this.#listeners.set(key, listener);
    }
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
    for (const [key, listener] of this.#listeners) {
      if (!key.startsWith(prefix)) continue;
      void listener.proxy.close();
      this.#listeners.delete(key);
    }
    const endpoints = this.#endpoints.get(`${service.metadata.namespace}/${service.metadata.name}`);
    endpoints?.close();
    this.#endpoints.delete(`${service.metadata.namespace}/${service.metadata.name}`);
  }
}
