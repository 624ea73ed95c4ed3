// `kubectl get` asks the server for a meta.k8s.io Table and prints its cells; these are the columns and
// cells of Kubernetes' own printers (pkg/printers/internalversion/printers.go) for the lab's resources.
// Wide columns (priority 1) are always sent: kubectl shows them with `-o wide` only.
// The cells read objects defensively: a controller writes them through the store, unchecked, and a
// malformed one must print as empty cells, not stop a list or a watch.
import { isObject } from './json.js';
import type { ResourceName } from './resources.js';
import { formatLabels, selectorText, type LabelSelector } from './selectors.js';
import type { KubeObject } from './store.js';

/** A list field, or none when it is not one. */
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
/** An object field, or an empty one when it is not one. */
const fields = <T extends object>(value: unknown): Partial<T> => (isObject(value) ? (value as Partial<T>) : {});
/** A count field: a number, else 0. */
const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

type Cell = string | number;
interface Column {
  name: string;
  type: 'string' | 'integer';
  format: string;
  description: string;
  priority: number;
}

const column = (name: string, description: string, priority = 0, type: Column['type'] = 'string'): Column => ({
  name,
  type,
  format: name === 'Name' ? 'name' : '',
  description,
  priority,
});
const NAME = column('Name', 'Name must be unique within a namespace.');
const AGE = column(
  'Age',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);

/** Go's duration.HumanDuration, which kubectl's AGE column uses. */
function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const withUnit = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small ? `${big}${bigUnit}${small}${smallUnit}` : `${big}${bigUnit}`;
  if (minutes < 10) return withUnit(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withUnit(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  if (hours < 192) return withUnit(Math.floor(hours / 24), 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return withUnit(Math.floor(days / 365), 'y', days % 365, 'd');
  return `${Math.floor(days / 365)}y`;
}

const age = (object: KubeObject, now: number) =>
  object.metadata.creationTimestamp ? humanDuration(now - Date.parse(object.metadata.creationTimestamp)) : '<unknown>';

interface ContainerStatus {
  ready?: boolean;
  restartCount?: number;
  state?: {
    running?: object;
    waiting?: { reason?: string };
    terminated?: { reason?: string; exitCode?: number; signal?: number };
  };
  lastState?: { terminated?: { finishedAt?: string } };
}
interface Container {
  name: string;
  image?: string;
}

function podCells(pod: KubeObject, now: number): Cell[] {
  const spec = fields<{
    containers?: Container[];
    nodeName?: string;
    readinessGates?: Array<{ conditionType: string }>;
  }>(pod.spec);
  const status = fields<{
    phase?: string;
    reason?: string;
    podIPs?: Array<{ ip: string }>;
    podIP?: string;
    nominatedNodeName?: string;
    containerStatuses?: ContainerStatus[];
    conditions?: Array<{ type: string; status: string }>;
  }>(pod.status);
  let reason = status.reason || status.phase || '';
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  for (const entry of [...list<unknown>(status.containerStatuses)].reverse()) {
    const container = fields<ContainerStatus>(entry);
    restarts += count(container.restartCount);
    const finished = Date.parse(
      String(fields<{ terminated: { finishedAt?: string } }>(container.lastState).terminated?.finishedAt ?? ''),
    );
    if (finished > lastRestart) lastRestart = finished;
    const { waiting, terminated, running } = fields<NonNullable<ContainerStatus['state']>>(container.state);
    if (waiting?.reason) reason = waiting.reason;
    else if (terminated?.reason) reason = terminated.reason;
    else if (terminated)
      reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
    else if (container.ready && running) ready++;
  }
  if (pod.metadata.deletionTimestamp && status.phase !== 'Succeeded' && status.phase !== 'Failed')
    reason = 'Terminating';
  const restartText =
    restarts && lastRestart ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  const gates = list<{ conditionType: string }>(spec.readinessGates);
  const passed = gates.filter((gate) =>
    list<{ type: string; status: string }>(status.conditions).some(
      (c) => c.type === gate.conditionType && c.status === 'True',
    ),
  ).length;
  return [
    pod.metadata.name,
    `${ready}/${list(spec.containers).length}`,
    String(reason),
    restartText,
    age(pod, now),
    list<{ ip: string }>(status.podIPs)[0]?.ip || status.podIP || '<none>',
    spec.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    gates.length ? `${passed}/${gates.length}` : '<none>',
  ];
}

/** layoutContainerCells: the template's container names, and their images, comma-separated. */
function containerCells(template: unknown): [string, string] {
  const containers = list<Container>(fields<{ spec: { containers?: unknown } }>(template).spec?.containers);
  const named = containers.map((c) => fields<Container>(c));
  return [named.map((c) => c.name ?? '').join(','), named.map((c) => c.image ?? '').join(',')];
}

/** printDeployment: READY is ready/desired, UP-TO-DATE and AVAILABLE from the status the controller writes. */
function deploymentCells(deployment: KubeObject, now: number): Cell[] {
  const spec = fields<{ replicas: number; selector: LabelSelector; template: unknown }>(deployment.spec);
  const status = fields<{ readyReplicas: number; updatedReplicas: number; availableReplicas: number }>(
    deployment.status,
  );
  return [
    deployment.metadata.name,
    `${count(status.readyReplicas)}/${count(spec.replicas)}`,
    count(status.updatedReplicas),
    count(status.availableReplicas),
    age(deployment, now),
    ...containerCells(spec.template),
    selectorText(fields<LabelSelector>(spec.selector)),
  ];
}

/** printReplicaSet: DESIRED is spec.replicas, CURRENT and READY from the status; an empty selector is <none>. */
function replicaSetCells(replicaSet: KubeObject, now: number): Cell[] {
  const spec = fields<{ replicas: number; selector: LabelSelector; template: unknown }>(replicaSet.spec);
  const status = fields<{ replicas: number; readyReplicas: number }>(replicaSet.status);
  return [
    replicaSet.metadata.name,
    count(spec.replicas),
    count(status.replicas),
    count(status.readyReplicas),
    age(replicaSet, now),
    ...containerCells(spec.template),
    selectorText(fields<LabelSelector>(spec.selector)) || '<none>',
  ];
}

function serviceCells(service: KubeObject, now: number): Cell[] {
  const spec = fields<{
    type: string;
    clusterIPs: string[];
    externalIPs: string[];
    selector: Record<string, string>;
    ports: Array<{ port: number; nodePort?: number; protocol?: string }>;
  }>(service.spec);
  const loadBalancer = fields<{ ingress: unknown }>(fields<{ loadBalancer: unknown }>(service.status).loadBalancer);
  const ingress = list<{ ip?: string; hostname?: string }>(loadBalancer.ingress)
    .map((entry) => fields<{ ip: string; hostname: string }>(entry))
    .map((entry) => entry.ip || entry.hostname || '')
    .filter(Boolean);
  const external = [...(spec.type === 'LoadBalancer' ? ingress : []), ...list<string>(spec.externalIPs)];
  const ports = list<{ port: number; nodePort?: number; protocol?: string }>(spec.ports)
    .map((p) => fields<{ port: number; nodePort: number; protocol: string }>(p))
    .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
    .join(',');
  return [
    service.metadata.name,
    spec.type ?? 'ClusterIP',
    list<string>(spec.clusterIPs)[0] ?? '<none>',
    external.length ? external.join(',') : spec.type === 'LoadBalancer' ? '<pending>' : '<none>',
    ports || '<none>',
    age(service, now),
    isObject(spec.selector) ? formatLabels(spec.selector) : '<none>',
  ];
}

/** At most three, then `+ N more...`; an empty list is `<unset>` (listWithMoreString). */
function listWithMore(values: string[]): string {
  if (!values.length) return '<unset>';
  return values.length > 3 ? `${values.slice(0, 3).join(',')} + ${values.length - 3} more...` : values.join(',');
}

function endpointSliceCells(slice: KubeObject, now: number): Cell[] {
  const ports = list<unknown>(slice.ports).map((p) => fields<{ port: number; name: string }>(p));
  const endpoints = list<unknown>(slice.endpoints).map((e) => fields<{ addresses: unknown }>(e));
  return [
    slice.metadata.name,
    String(slice.addressType ?? ''),
    listWithMore(ports.map((p) => (p.port !== undefined ? String(p.port) : (p.name ?? '*')))),
    listWithMore(endpoints.flatMap((e) => list<string>(e.addresses))),
    age(slice, now),
  ];
}

function namespaceCells(namespace: KubeObject, now: number): Cell[] {
  return [
    namespace.metadata.name,
    String(fields<{ phase: string }>(namespace.status).phase ?? 'Active'),
    age(namespace, now),
  ];
}

const PRINTERS: Record<ResourceName, { columns: Column[]; cells: (object: KubeObject, now: number) => Cell[] }> = {
  pods: {
    columns: [
      NAME,
      column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      column('Status', 'The aggregate status of the containers in this pod.'),
      column(
        'Restarts',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      AGE,
      column('IP', 'IP address allocated to the pod.', 1),
      column('Node', 'NodeName indicates in which node this pod is scheduled.', 1),
      column('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
      column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    cells: podCells,
  },
  deployments: {
    columns: [
      NAME,
      column('Ready', 'Number of the pod with ready state'),
      column(
        'Up-to-date',
        'Total number of non-terminating pods targeted by this deployment that have the desired template spec.',
      ),
      column('Available', 'Total number of available non-terminating pods targeted by this deployment.'),
      AGE,
      column('Containers', 'Names of each container in the template.', 1),
      column('Images', 'Images referenced by each container in the template.', 1),
      column('Selector', 'Label selector for pods.', 1),
    ],
    cells: deploymentCells,
  },
  replicasets: {
    // replicaSetColumnDefinitions, with the apps/v1 descriptions (k8s.io/api apps/v1 types_swagger_doc_generated.go).
    columns: [
      NAME,
      column(
        'Desired',
        'Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
        0,
        'integer',
      ),
      column(
        'Current',
        'Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
        0,
        'integer',
      ),
      column(
        'Ready',
        'The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.',
        0,
        'integer',
      ),
      AGE,
      column('Containers', 'Names of each container in the template.', 1),
      column('Images', 'Images referenced by each container in the template.', 1),
      column(
        'Selector',
        "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
        1,
      ),
    ],
    cells: replicaSetCells,
  },
  services: {
    columns: [
      NAME,
      column('Type', 'type determines how the Service is exposed.'),
      column('Cluster-IP', 'clusterIP is the IP address of the service.'),
      column(
        'External-IP',
        'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
      ),
      column('Port(s)', 'The list of ports that are exposed by this service.'),
      AGE,
      column('Selector', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    cells: serviceCells,
  },
  endpointslices: {
    columns: [
      NAME,
      column('AddressType', 'addressType specifies the type of address carried by this EndpointSlice.'),
      column('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
      column('Endpoints', 'endpoints is a list of unique endpoints in this slice.'),
      AGE,
    ],
    cells: endpointSliceCells,
  },
  namespaces: {
    columns: [NAME, column('Status', 'The status of the namespace'), AGE],
    cells: namespaceCells,
  },
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** meta.k8s.io/v1 or meta.k8s.io/v1beta1, as the client asked */
  apiVersion: string;
  /** false for the watch events after the first, as the API server sends them */
  withColumns?: boolean;
  now?: number;
}

function rowObject(object: KubeObject, include: IncludeObject, apiVersion: string) {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion, metadata: object.metadata };
}

export function toTable(resource: ResourceName, objects: KubeObject[], resourceVersion: string, options: TableOptions) {
  const printer = PRINTERS[resource];
  const now = options.now ?? Date.now();
  return {
    kind: 'Table',
    apiVersion: options.apiVersion,
    metadata: { resourceVersion },
    ...(options.withColumns !== false && { columnDefinitions: printer.columns }),
    rows: objects.map((object) => ({
      cells: printer.cells(object, now),
      object: rowObject(object, options.includeObject, options.apiVersion),
    })),
  };
}
