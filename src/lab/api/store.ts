// The lab's etcd: Kubernetes objects as plain JSON, one resourceVersion counter for all of them, and a
// bounded history of changes so that a watch can resume after the resourceVersion it last saw — or be
// told 410 Gone when that version has left the history, as an etcd compaction tells a real client.
import { randomUUID } from 'node:crypto';
import { deepEqual } from './json.js';
import { apiVersionOf, resourceType, type ResourceName } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, badRequest, conflict, notFound, qualified } from './status.js';
import { defaultDeploymentSpec, defaultReplicaSetSpec } from './workload-defaults.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<Record<string, unknown>>;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent {
  type: EventType;
  /** frozen: copy it (structuredClone) before changing it */
  object: KubeObject;
}

export interface ListOptions {
  /** one namespace, or all of them when absent */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** replay the changes after this version; absent, '' or '0': ADDED for every object now, then changes */
  resourceVersion?: string;
}

export interface Watcher {
  stop(): void;
  /** delivers a BOOKMARK with the store's current resourceVersion */
  bookmark(annotations?: Record<string, string>): void;
}

interface Change {
  rv: number;
  resource: ResourceName;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  previous: KubeObject | undefined;
}

type Listener = (change: Change) => void;

export interface StoreOptions {
  /** how many changes a watch can resume across (default 1000) */
  historySize?: number;
  now?: () => Date;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The API server defaults these types on every write, whoever writes: a controller here too. */
const SPEC_DEFAULTS: Partial<Record<ResourceName, (spec: unknown) => Record<string, unknown>>> = {
  deployments: defaultDeploymentSpec,
  replicasets: defaultReplicaSetSpec,
};

/** The object with its spec defaulted, if its type has defaults. */
function defaulted(resource: ResourceName, object: KubeObject): KubeObject {
  const defaults = SPEC_DEFAULTS[resource];
  return defaults ? { ...object, spec: defaults(object.spec) } : object;
}

/** RFC 3339 to the second, as Kubernetes writes timestamps (metadata, and the kubelet's pod status). */
export const timestamp = (date: Date): string => date.toISOString().replace(/\.\d+Z$/, 'Z');

/** A value as it would be stored: JSON, without the undefined members a spread can leave. */
const toJson = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

const keyOf = (resource: string, namespace: string | undefined, name: string) =>
  `${resource}/${namespace ?? ''}/${name}`;

export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: Change[] = [];
  private readonly listeners = new Set<Listener>();
  private rv = 0;
  /** every change after this version is still in the history */
  private floor = 0;
  private readonly historySize: number;
  private readonly now: () => Date;

  constructor(options: StoreOptions = {}) {
    this.historySize = options.historySize ?? 1000;
    this.now = options.now ?? (() => new Date());
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Forgets the history, as an etcd compaction does: a watch from any earlier version is then 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.floor = this.rv;
  }

  list(resource: ResourceName, options: ListOptions = {}): { items: KubeObject[]; resourceVersion: string } {
    const matches = this.matcher(resource, options);
    const items = [...this.objects.values()].filter(
      (object) => object.kind === resourceType(resource).kind && matches(object),
    );
    items.sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
    return { items, resourceVersion: this.resourceVersion };
  }

  get(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(keyOf(resource, this.scope(resource, namespace), name));
  }

  /** Like get, but a missing object is a 404 ApiError. */
  read(resource: ResourceName, namespace: string | undefined, name: string): KubeObject {
    const object = this.get(resource, namespace, name);
    if (!object) throw notFound(resource, resourceType(resource).group, name);
    return object;
  }

  /** Stores a new object with its uid, resourceVersion, creationTimestamp and generation (and defaults). */
  create(resource: ResourceName, object: KubeObject): KubeObject {
    const type = resourceType(resource);
    const { name } = object.metadata ?? {};
    if (!name) throw badRequest(`${type.kind}: metadata.name is required`);
    const namespace = this.scope(resource, object.metadata.namespace);
    if (type.namespaced && !this.get('namespaces', undefined, namespace as string)) {
      throw notFound('namespaces', '', namespace as string);
    }
    const key = keyOf(resource, namespace, name);
    if (this.objects.has(key)) {
      throw new ApiError(409, 'AlreadyExists', `${qualified(resource, type.group)} "${name}" already exists`, {
        name,
        group: type.group,
        kind: resource,
      });
    }
    const rv = this.rv + 1;
    const metadata: ObjectMeta = {
      ...object.metadata,
      ...(type.namespaced && { namespace }),
      uid: randomUUID(),
      resourceVersion: String(rv),
      creationTimestamp: timestamp(this.now()),
      ...(type.tracksGeneration && { generation: 1 }),
      deletionTimestamp: undefined,
      deletionGracePeriodSeconds: undefined,
    };
    const created = {
      ...structuredClone(defaulted(resource, object)),
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata,
    };
    return this.commit(resource, 'ADDED', key, created, undefined);
  }

  /**
   * Replaces an object (spec and status alike, as a controller writes it). A metadata.resourceVersion that is
   * not the stored one is a 409 Conflict: the caller read a stale copy. A changed spec (a Deployment's
   * annotations too) bumps the generation. Deployments and ReplicaSets get their defaults, as on create.
   */
  update(resource: ResourceName, object: KubeObject): KubeObject {
    const type = resourceType(resource);
    const current = this.read(resource, object.metadata?.namespace, object.metadata?.name);
    const asked = object.metadata.resourceVersion;
    if (asked && asked !== current.metadata.resourceVersion)
      throw conflict(resource, type.group, current.metadata.name);
    const next = defaulted(resource, object);
    const bumps =
      !deepEqual(toJson(next.spec), toJson(current.spec)) ||
      (type.annotationsBumpGeneration === true &&
        !deepEqual(next.metadata.annotations ?? {}, current.metadata.annotations ?? {}));
    const metadata: ObjectMeta = {
      ...object.metadata,
      name: current.metadata.name,
      ...(type.namespaced && { namespace: current.metadata.namespace }),
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      resourceVersion: String(this.rv + 1),
      ...(type.tracksGeneration && { generation: (current.metadata.generation ?? 1) + (bumps ? 1 : 0) }),
      // Only a delete sets these: a write can neither start nor undo a deletion.
      deletionTimestamp: current.metadata.deletionTimestamp,
      deletionGracePeriodSeconds: current.metadata.deletionGracePeriodSeconds,
    };
    const updated = { ...structuredClone(next), apiVersion: current.apiVersion, kind: current.kind, metadata };
    return this.commit(
      resource,
      'MODIFIED',
      keyOf(resource, current.metadata.namespace, current.metadata.name),
      updated,
      current,
    );
  }

  /** Read, change a copy, write back: the read-modify-write a controller does, without a conflict to retry. */
  mutate(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    change: (object: KubeObject) => void,
  ): KubeObject {
    const copy = structuredClone(this.read(resource, namespace, name));
    change(copy);
    copy.metadata.resourceVersion = undefined;
    return this.update(resource, copy);
  }

  /**
   * Deletes an object. A pod bound to a node (spec.nodeName) is deleted gracefully, as the API server
   * does: it gets metadata.deletionTimestamp (now + the grace period) and stays until its kubelet, having
   * stopped the containers, deletes it again with gracePeriodSeconds 0. Returns the object as it is now.
   */
  delete(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    options: { gracePeriodSeconds?: number } = {},
  ): KubeObject {
    const current = this.read(resource, namespace, name);
    const key = keyOf(resource, current.metadata.namespace, name);
    const spec = current.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
    if (resource === 'pods' && spec?.nodeName && options.gracePeriodSeconds !== 0) {
      const grace = options.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
      const pending = current.metadata.deletionGracePeriodSeconds;
      if (pending !== undefined && pending <= grace) return current;
      const metadata = {
        ...current.metadata,
        resourceVersion: String(this.rv + 1),
        deletionTimestamp: timestamp(new Date(this.now().getTime() + grace * 1000)),
        deletionGracePeriodSeconds: grace,
      };
      return this.commit(resource, 'MODIFIED', key, { ...structuredClone(current), metadata }, current);
    }
    const last = {
      ...structuredClone(current),
      metadata: { ...current.metadata, resourceVersion: String(this.rv + 1) },
    };
    return this.commit(resource, 'DELETED', key, last, current);
  }

  /**
   * Calls `listener` with each change to `resource` that passes the options' namespace and selectors —
   * asynchronously, in order. An object that stops matching arrives as DELETED, one that starts as ADDED.
   * Throws a 410 ApiError (reason Expired) when options.resourceVersion is older than the history.
   */
  watch(resource: ResourceName, options: WatchOptions, listener: (event: WatchEvent) => void): Watcher {
    const matches = this.matcher(resource, options);
    const queue: WatchEvent[] = [];
    let stopped = false;
    let scheduled = false;
    const deliver = (event: WatchEvent) => {
      queue.push(event);
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        for (let next = queue.shift(); next && !stopped; next = queue.shift()) listener(next);
      });
    };
    const onChange: Listener = (change) => {
      if (change.resource !== resource) return;
      const now = change.type !== 'DELETED' && matches(change.object);
      const before = change.previous !== undefined && matches(change.previous);
      if (now && before) deliver({ type: change.type, object: change.object });
      else if (now) deliver({ type: 'ADDED', object: change.object });
      else if (before) deliver({ type: 'DELETED', object: change.object });
    };
    const since = options.resourceVersion;
    if (!since || since === '0') {
      for (const object of this.list(resource, options).items) deliver({ type: 'ADDED', object });
    } else {
      if (!/^\d+$/.test(since)) throw badRequest(`invalid resourceVersion "${since}": not a number`);
      const version = Number(since);
      if (version < this.floor)
        throw new ApiError(410, 'Expired', `too old resource version: ${version} (${this.floor + 1})`);
      for (const change of this.history) if (change.rv > version) onChange(change);
    }
    this.listeners.add(onChange);
    const { kind } = resourceType(resource);
    const apiVersion = apiVersionOf(resourceType(resource));
    return {
      stop: () => {
        stopped = true;
        this.listeners.delete(onChange);
      },
      bookmark: (annotations) =>
        deliver({
          type: 'BOOKMARK',
          object: {
            kind,
            apiVersion,
            metadata: { name: '', resourceVersion: this.resourceVersion, ...(annotations && { annotations }) },
          },
        }),
    };
  }

  private commit(
    resource: ResourceName,
    type: Change['type'],
    key: string,
    object: KubeObject,
    previous: KubeObject | undefined,
  ): KubeObject {
    this.rv += 1;
    const frozen = deepFreeze(object);
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, frozen);
    const change: Change = { rv: this.rv, resource, type, object: frozen, previous };
    this.history.push(change);
    while (this.history.length > this.historySize) this.floor = (this.history.shift() as Change).rv;
    for (const listener of this.listeners) listener(change);
    return frozen;
  }

  private scope(resource: ResourceName, namespace: string | undefined): string | undefined {
    return resourceType(resource).namespaced ? namespace || 'default' : undefined;
  }

  private matcher(resource: ResourceName, options: ListOptions): (object: KubeObject) => boolean {
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseFieldSelector(options.fieldSelector, resource);
    const { namespace } = options;
    return (object) =>
      (namespace === undefined || object.metadata.namespace === namespace) &&
      labels(object.metadata.labels) &&
      fields(object);
  }
}
