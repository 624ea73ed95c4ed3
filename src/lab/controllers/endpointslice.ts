// The EndpointSlice controller, a client of the API as on a cluster (k8s.io/kubernetes pkg/controller/
// endpointslice): for every Service with a selector, the pods it selects that have an IP, each with the
// conditions the data plane reads — ready (the pod is Ready and not being deleted), serving (Ready, even
// while terminating) and terminating (being deleted) — and the Service's ports resolved to the pods'
// container ports (a named targetPort may differ from pod to pod: pods that resolve them alike share a
// slice). Proxies, cluster DNS, the xDS control plane, the mesh and the k8s:/// resolver all follow these
// slices, as kube-proxy, CoreDNS and Linkerd's destination controller do.
import type { KubeObject, ObjectStore, Watcher } from '../api/store.js';
import { endpointsSeen } from '../../common/trace.js';
import { nameSuffix } from './names.js';
import {
  controllerRef,
  isControlledBy,
  podIsReady,
  sameJson,
  selects,
  specOf,
  statusOf,
  type PodSpec,
  type PodStatus,
} from './objects.js';
import { keyOf, splitKey, WorkQueue } from './queue.js';

const SERVICE_NAME = 'kubernetes.io/service-name';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const CONTROLLER = 'endpointslice-controller.k8s.io';

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  targetPort?: number | string;
  appProtocol?: string;
}

interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  publishNotReadyAddresses?: boolean;
}

export interface EndpointSliceOptions {
  onError?: (error: unknown) => void;
}

export class EndpointSliceController {
  readonly #store: ObjectStore;
  readonly #queue: WorkQueue;
  readonly #watchers: Watcher[] = [];

  constructor(store: ObjectStore, options: EndpointSliceOptions = {}) {
    this.#store = store;
    this.#queue = new WorkQueue(
      (key) => this.#sync(key),
      (_key, error) => options.onError?.(error),
    );
  }

  start(): void {
    const store = this.#store;
    this.#watchers.push(
      store.watch('services', {}, ({ object }) =>
        this.#queue.add(keyOf(object.metadata.namespace, object.metadata.name)),
      ),
      store.watch('pods', {}, ({ object }) => {
        // Every Service that selects the pod (as it is now or was before: a label change moves it).
        for (const service of store.list('services', { namespace: object.metadata.namespace }).items) {
          const selector = specOf<ServiceSpec>(service).selector;
          if (selector && Object.keys(selector).length > 0) {
            this.#queue.add(keyOf(service.metadata.namespace, service.metadata.name));
          }
        }
      }),
    );
  }

  stop(): void {
    this.#watchers.forEach((watcher) => watcher.stop());
    this.#queue.stop();
  }

  #sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const store = this.#store;
    const service = store.get('services', namespace, name);
    const existing = store
      .list('endpointslices', { namespace, labelSelector: `${SERVICE_NAME}=${name}` })
      .items.filter((slice) => slice.metadata.labels?.[MANAGED_BY] === CONTROLLER);
    const spec = service ? specOf<ServiceSpec>(service) : undefined;
    if (!service || !spec?.selector || Object.keys(spec.selector).length === 0) {
      for (const slice of existing) store.delete('endpointslices', namespace, slice.metadata.name);
      return;
    }
    const pods = store
      .list('pods', { namespace })
      .items.filter((pod) => selectsPod(spec.selector, pod) && statusOf<PodStatus>(pod).podIP);
    // Pods whose container ports resolve the Service's ports alike share a slice.
    const groups = new Map<
      string,
      { ports: Array<Record<string, unknown>>; endpoints: Array<Record<string, unknown>> }
    >();
    for (const pod of pods) {
      const ports = (spec.ports ?? []).flatMap((port) => {
        const number = targetPortOf(port, pod);
        return number === undefined
          ? []
          : [
              {
                name: port.name ?? '',
                protocol: port.protocol ?? 'TCP',
                port: number,
                ...(port.appProtocol && { appProtocol: port.appProtocol }),
              },
            ];
      });
      const group = JSON.stringify(ports);
      if (!groups.has(group)) groups.set(group, { ports, endpoints: [] });
      const terminating = pod.metadata.deletionTimestamp !== undefined;
      const ready = podIsReady(pod);
      const status = statusOf<PodStatus>(pod);
      groups.get(group)?.endpoints.push({
        addresses: [status.podIP],
        conditions: {
          ready: (ready || spec.publishNotReadyAddresses === true) && !terminating,
          serving: ready || spec.publishNotReadyAddresses === true,
          terminating,
        },
        nodeName: specOf<PodSpec>(pod).nodeName,
        targetRef: { kind: 'Pod', name: pod.metadata.name, namespace, uid: pod.metadata.uid },
      });
    }
    if (groups.size === 0) groups.set('[]', { ports: [], endpoints: [] }); // a Service with no pods still has a slice

    const unused = [...existing];
    for (const { ports, endpoints } of groups.values()) {
      endpoints.sort((a, b) =>
        String((a.targetRef as { name: string }).name).localeCompare(String((b.targetRef as { name: string }).name)),
      );
      const index = unused.findIndex((slice) => sameJson(slice.ports, ports));
      const slice = index === -1 ? unused.shift() : unused.splice(index, 1)[0];
      if (slice) {
        if (!sameJson(slice.ports, ports) || !sameJson(slice.endpoints, endpoints)) {
          store.mutate('endpointslices', namespace, slice.metadata.name, (object) =>
            Object.assign(object, { ports, endpoints }),
          );
        }
        continue;
      }
      store.create('endpointslices', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${name}-${nameSuffix()}`,
          namespace,
          labels: { [SERVICE_NAME]: name, [MANAGED_BY]: CONTROLLER },
          ownerReferences: [controllerRef(service)],
        },
        addressType: 'IPv4',
        ports,
        endpoints,
      });
    }
    for (const slice of unused)
      if (isControlledBy(slice, service)) store.delete('endpointslices', namespace, slice.metadata.name);
    // The ready pods as the slices now publish them, for those who time it (common/trace.ts).
    const ready = [...groups.values()].flatMap(({ endpoints }) =>
      endpoints.flatMap((e) => ((e.conditions as { ready: boolean }).ready ? (e.addresses as string[]) : [])),
    );
    endpointsSeen(`slice:${name}`, ready);
  }
}

const selectsPod = (selector: Record<string, string> | undefined, pod: KubeObject) =>
  selects({ matchLabels: selector }, pod.metadata.labels);

/** The Service port's targetPort on this pod: a number, or the container port of that name. */
function targetPortOf(port: ServicePort, pod: KubeObject): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const container of specOf<PodSpec>(pod).containers ?? []) {
    const found = container.ports?.find((p) => p.name === target);
    if (found) return found.containerPort;
  }
  return undefined;
}
