// The parts of Deployments, ReplicaSets and Pods the controllers and the kubelet read, typed: the store
// holds plain JSON, as the API server does, and these are the fields the lab's machinery acts on.
import type { ResourceName } from '../api/resources.js';
import { timestamp, type KubeObject, type ObjectStore } from '../api/store.js';
import { parseLabelSelector, selectorText, type LabelSelector } from '../api/selectors.js';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface ProbeSpec {
  grpc?: { port: number; service?: string };
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  readinessProbe?: ProbeSpec;
  livenessProbe?: ProbeSpec;
}

export interface PodSpec {
  containers: Container[];
  nodeName?: string;
  terminationGracePeriodSeconds?: number;
  enableServiceLinks?: boolean;
  restartPolicy?: string;
  [field: string]: unknown;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface RollingUpdate {
  maxSurge?: number | string;
  maxUnavailable?: number | string;
}

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplate;
  strategy?: { type?: 'RollingUpdate' | 'Recreate'; rollingUpdate?: RollingUpdate };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
}

export interface ReplicaSetSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplate;
  minReadySeconds?: number;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

export interface ContainerStatus {
  name: string;
  image?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  containerID?: string;
  state?: Record<string, unknown>;
  lastState?: Record<string, unknown>;
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  hostIP?: string;
  startTime?: string;
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
}

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const TEMPLATE_HASH = 'pod-template-hash';

export const specOf = <T>(object: KubeObject): T => object.spec as T;
export const statusOf = <T>(object: KubeObject): T => (object.status ?? {}) as T;

/** The owner that controls `object` (ownerReferences with controller: true), if any. */
export function controllerOf(object: KubeObject): { kind: string; name: string; uid?: string } | undefined {
  const owner = object.metadata.ownerReferences?.find((ref) => ref.controller === true);
  return owner as { kind: string; name: string; uid?: string } | undefined;
}

export const isControlledBy = (object: KubeObject, owner: KubeObject): boolean =>
  controllerOf(object)?.uid === owner.metadata.uid;

/**
 * The `resource` objects in `namespace` that the `kind` named `name` controls: by uid while it exists, by
 * kind and name once it is gone (its dependents still name it until the garbage collector takes them).
 */
export function dependentsOf(
  store: ObjectStore,
  resource: ResourceName,
  namespace: string,
  kind: string,
  name: string,
  owner: KubeObject | undefined,
): KubeObject[] {
  return store.list(resource, { namespace }).items.filter((object) => {
    if (owner) return isControlledBy(object, owner);
    const controller = controllerOf(object);
    return controller?.kind === kind && controller.name === name;
  });
}

/** An ownerReference that makes `owner` the controller of the object that carries it. */
export function controllerRef(owner: KubeObject): Record<string, unknown> {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Whether `labels` are selected by a LabelSelector (matchLabels and matchExpressions). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const text = selectorText(selector);
  return text !== '' && parseLabelSelector(text)(labels);
}

export const conditionOf = (conditions: Condition[] | undefined, type: string): Condition | undefined =>
  conditions?.find((condition) => condition.type === type);

export const podIsReady = (pod: KubeObject): boolean =>
  conditionOf(statusOf<PodStatus>(pod).conditions, 'Ready')?.status === 'True';

/** Counted by a ReplicaSet: not being deleted, not finished (FilterActivePods). */
export function podIsActive(pod: KubeObject): boolean {
  const { phase } = statusOf<PodStatus>(pod);
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

/** A pod counts as available once ready for minReadySeconds (the lab's manifests use 0: once ready). */
export function podIsAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  const ready = conditionOf(statusOf<PodStatus>(pod).conditions, 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0 || !ready.lastTransitionTime) return true;
  return Date.parse(ready.lastTransitionTime) + minReadySeconds * 1000 <= now.getTime();
}

/**
 * Sets a condition, keeping its lastTransitionTime when its status did not change. Deployment conditions
 * also carry lastUpdateTime (`updates`): stamped whenever the reason or message changes.
 */
export function withCondition(
  conditions: Condition[] | undefined,
  next: Condition,
  now: Date,
  updates = false,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === next.type);
  const previous = index === -1 ? undefined : list[index];
  const stamp = timestamp(now);
  const same = previous?.status === next.status;
  const unchanged = same && previous?.reason === next.reason && previous?.message === next.message;
  const merged: Condition = {
    ...next,
    lastTransitionTime: same ? previous?.lastTransitionTime : stamp,
    ...(updates ? { lastUpdateTime: unchanged ? previous?.lastUpdateTime : stamp } : {}),
  };
  if (index === -1) list.push(merged);
  else list[index] = merged;
  return list;
}

/** Sorted keys, so that two objects compare equal whatever order they were written in. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const sameJson = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);
