// The endpoints a Service's traffic may go to, as the data plane sees them: the ready pods of its
// EndpointSlices (ServiceEndpoints follows them in the API, as kube-proxy and Linkerd's destination
// controller do), each with where to connect. Proxies subscribe and follow every change at once.
import { EventEmitter } from 'node:events';
import type { KubeObject, ObjectStore, Watcher } from '../api/store.js';
import { compareIps } from '../../common/ip.js';
import { endpointsSeen } from '../../common/trace.js';

export interface Endpoint {
  /** the pod IP */
  ip: string;
  /** where to connect: the pod IP, or 127.0.0.1 where pods have no address of their own */
  address: string;
  httpPort: number;
  grpcPort: number;
}

/** A set of endpoints that changes: `list()` now, and a 'change' event with the new list. */
export class Endpoints extends EventEmitter<{ change: [Endpoint[]] }> {
  #ready = new Map<string, Endpoint>();

  list(): Endpoint[] {
    return [...this.#ready.values()];
  }

  add(endpoint: Endpoint): void {
    this.#ready.set(endpoint.ip, endpoint);
    this.#sort();
    this.emit('change', this.list());
  }

  remove(ip: string): void {
    if (this.#ready.delete(ip)) this.emit('change', this.list());
  }

  /** Replaces the whole set; says so only when it changed. */
  protected replace(endpoints: Endpoint[]): void {
    const next = new Map(endpoints.map((endpoint) => [endpoint.ip, endpoint]));
    const same =
      next.size === this.#ready.size &&
      [...next].every(([ip, endpoint]) => JSON.stringify(this.#ready.get(ip)) === JSON.stringify(endpoint));
    if (same) return;
    this.#ready = next;
    this.#sort();
    this.emit('change', this.list());
  }

  #sort(): void {
    this.#ready = new Map([...this.#ready].sort(([a], [b]) => compareIps(a, b)));
  }
}

export type Dial = (ip: string, port: number) => { host: string; port: number };

/**
 * The ready endpoints of one Service, from its EndpointSlices in the API: the slices' ports named `http`
 * and `grpc` (the kit's container ports), dialled where the pod network says. The slices are merged and
 * each pod counted once, ready if any slice says so.
 */
export class ServiceEndpoints extends Endpoints {
  readonly #watcher: Watcher;
  readonly #slices = new Map<string, KubeObject>();

  constructor(store: ObjectStore, namespace: string, service: string, dial: Dial) {
    super();
    // What the data plane following this Service knows, for those who time it (common/trace.ts).
    this.on('change', (ready) =>
      endpointsSeen(
        `endpoints:${service}`,
        ready.map((endpoint) => endpoint.ip),
      ),
    );
    this.#watcher = store.watch(
      'endpointslices',
      { namespace, labelSelector: `kubernetes.io/service-name=${service}` },
      ({ type, object }) => {
        if (type === 'DELETED') this.#slices.delete(object.metadata.name);
        else if (type !== 'BOOKMARK') this.#slices.set(object.metadata.name, object);
        this.replace(readyEndpoints([...this.#slices.values()], dial));
      },
    );
    // The watch delivers what is there already after the current task; take it now as well.
    this.replace(
      readyEndpoints(
        store.list('endpointslices', { namespace, labelSelector: `kubernetes.io/service-name=${service}` }).items,
        dial,
      ),
    );
  }

  close(): void {
    this.#watcher.stop();
  }
}

interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
}

function readyEndpoints(slices: KubeObject[], dial: Dial): Endpoint[] {
  const ready = new Map<string, Endpoint>();
  for (const slice of slices) {
    const ports = (slice.ports ?? []) as Array<{ name?: string; port?: number }>;
    const http = ports.find((p) => p.name === 'http')?.port;
    const grpc = ports.find((p) => p.name === 'grpc')?.port;
    for (const endpoint of (slice.endpoints ?? []) as SliceEndpoint[]) {
      const ip = endpoint.addresses?.[0];
      if (!ip || endpoint.conditions?.ready === false) continue;
      const httpAt = http === undefined ? undefined : dial(ip, http);
      const grpcAt = grpc === undefined ? undefined : dial(ip, grpc);
      ready.set(ip, {
        ip,
        address: grpcAt?.host ?? httpAt?.host ?? ip,
        httpPort: httpAt?.port ?? 0,
        grpcPort: grpcAt?.port ?? 0,
      });
    }
  }
  return [...ready.values()];
}
