// Writes to a Deployment through the API, as the API server takes them: PUT (the whole object) or PATCH (any
// of the three patch types) on deployments/NAME, and the same on deployments/NAME/scale (`kubectl scale`).
// Every change to the spec that the API server accepts is accepted — a new pod template starts a rollout in
// the lab's Deployment controller, as on a cluster — after defaulting and validation; the status is the
// controller's and stays as it is (PrepareForUpdate), and system metadata (uid, creation time, generation)
// is the store's.
import { validateDeploymentUpdate } from './deployment-validation.js';
import { parseBody } from './http-io.js';
import { deepEqual, isObject } from './json.js';
import { applyPatch, type PatchType } from './patch.js';
import { DEPLOYMENT, SCALE } from './patch-meta.js';
import { selectorText, type LabelSelector } from './selectors.js';
import type { KubeObject, ObjectStore } from './store.js';
import { ApiError, badRequest, conflict, fieldErrors, invalidObject, type FieldError } from './status.js';
import { defaultDeploymentSpec } from './workload-defaults.js';

export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: Pick<KubeObject['metadata'], 'name' | 'namespace' | 'uid' | 'resourceVersion' | 'creationTimestamp'>;
  spec: { replicas: number };
  status: { replicas: number; selector: string };
}

/** What a DELETE of a Deployment answers: success, and which object went. */
export interface DeletedStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success';
  details: { name: string; group: string; kind: string; uid?: string };
}

export function scaleOf(deployment: KubeObject): Scale {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = deployment.metadata;
  const spec = deployment.spec as { replicas?: number; selector?: LabelSelector } | undefined;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec?.replicas ?? 1 },
    status: {
      replicas: Number((deployment.status as { replicas?: number } | undefined)?.replicas ?? 0),
      selector: selectorText(spec?.selector),
    },
  };
}

/** An empty or null map is no map, as the API server's encoding (omitempty) leaves it out. */
const unlessEmpty = (map: unknown) => (map === null || (isObject(map) && !Object.keys(map).length) ? undefined : map);

/**
 * Whether a client's value of an immutable field is the one stored: a time as the same instant to the
 * second, however it is written ("…:22Z", "…:22.000Z": metav1.Time is decoded before it is compared, and
 * @kubernetes/client-node sends back the Date it decoded, with milliseconds).
 */
function sameValue(field: string, given: unknown, stored: unknown): boolean {
  if (field !== 'creationTimestamp' || typeof given !== 'string' || typeof stored !== 'string') return given === stored;
  const [a, b] = [Date.parse(given), Date.parse(stored)];
  return !Number.isNaN(a) && Math.floor(a / 1000) === Math.floor(b / 1000);
}

/** The metadata a client may not change (ValidateObjectMetaUpdate): a changed value is 422, "field is immutable". */
const IMMUTABLE_METADATA = ['uid', 'creationTimestamp'] as const;

export class DeploymentWrites {
  constructor(
    private readonly store: ObjectStore,
    private readonly maxReplicas: number,
  ) {}

  getScale(namespace: string, name: string): Scale {
    return scaleOf(this.store.read('deployments', namespace, name));
  }

  /** PATCH (with a patch type) or PUT (patchType undefined) on deployments/NAME/scale. */
  writeScale(namespace: string, name: string, body: unknown, patchType?: PatchType): Scale {
    const current = this.store.read('deployments', namespace, name);
    const scale = patchType ? applyPatch(patchType, scaleOf(current), body, SCALE) : body;
    if (!isObject(scale) || !isObject(scale.spec)) throw badRequest('a Scale needs a spec');
    const metadata = this.identity(scale, 'Scale', namespace, name);
    this.checkVersion(current, metadata.resourceVersion);
    const { replicas } = scale.spec;
    // ValidateScale: whole and not negative; the lab's own bound besides.
    const errors: FieldError[] = [];
    if (typeof replicas !== 'number' || !Number.isInteger(replicas))
      errors.push(fieldErrors.invalid('spec.replicas', replicas ?? null, 'must be an integer'));
    else if (replicas < 0)
      errors.push(fieldErrors.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
    else if (replicas > this.maxReplicas)
      errors.push(fieldErrors.invalid('spec.replicas', replicas, `must be less than or equal to ${this.maxReplicas}`));
    if (errors.length) throw invalidObject('Scale', 'autoscaling', name, errors);
    if (replicas === scaleOf(current).spec.replicas) return scaleOf(current);
    return scaleOf(
      this.store.mutate('deployments', namespace, name, (deployment) => {
        deployment.spec = { ...deployment.spec, replicas };
      }),
    );
  }

  /** PATCH (with a patch type) or PUT (patchType undefined) on deployments/NAME. */
  writeDeployment(namespace: string, name: string, body: unknown, patchType?: PatchType): KubeObject {
    const current = this.store.read('deployments', namespace, name);
    const next = patchType ? applyPatch(patchType, current, body, DEPLOYMENT) : body;
    if (!isObject(next)) throw badRequest('a Deployment is a JSON object');
    if (!patchType && ((next.kind ?? 'Deployment') !== 'Deployment' || (next.apiVersion ?? 'apps/v1') !== 'apps/v1'))
      throw badRequest(
        `the object provided is unrecognized (must be of type Deployment): ${String(next.apiVersion)}, Kind=${String(next.kind)}`,
      );
    const metadata = this.identity(next, 'Deployment', namespace, name);
    this.checkVersion(current, metadata.resourceVersion);
    const immutable = IMMUTABLE_METADATA.filter(
      (field) => metadata[field] !== undefined && !sameValue(field, metadata[field], current.metadata[field]),
    ).map((field) => fieldErrors.invalid(`metadata.${field}`, metadata[field], 'field is immutable'));
    const draft = {
      metadata: { name, labels: unlessEmpty(metadata.labels), annotations: unlessEmpty(metadata.annotations) },
      spec: defaultDeploymentSpec(next.spec),
    };
    const errors = [...immutable, ...validateDeploymentUpdate(draft, current, this.maxReplicas)];
    if (errors.length) throw invalidObject('Deployment', 'apps', name, errors);
    const updated: KubeObject = {
      ...current,
      metadata: {
        ...current.metadata,
        labels: draft.metadata.labels as Record<string, string> | undefined,
        annotations: draft.metadata.annotations as Record<string, string> | undefined,
      },
      spec: draft.spec,
    };
    // An update that changes nothing is not written, as the API server skips writing an unchanged object.
    if (deepEqual(JSON.parse(JSON.stringify(updated)), JSON.parse(JSON.stringify(current)))) return current;
    return this.store.update('deployments', updated);
  }

  /**
   * POST on deployments: a new Deployment (`kubectl create`, `kubectl apply` of a new one), defaulted and
   * validated as an update is; 409 AlreadyExists for a name taken. Its status is the controller's to write.
   */
  createDeployment(namespace: string, body: unknown): KubeObject {
    if (!isObject(body)) throw badRequest('a Deployment is a JSON object');
    if ((body.kind ?? 'Deployment') !== 'Deployment' || (body.apiVersion ?? 'apps/v1') !== 'apps/v1')
      throw badRequest(
        `the object provided is unrecognized (must be of type Deployment): ${String(body.apiVersion)}, Kind=${String(body.kind)}`,
      );
    const metadata = isObject(body.metadata) ? body.metadata : {};
    if (typeof metadata.name !== 'string' || metadata.name === '')
      throw invalidObject('Deployment', 'apps', '', [
        fieldErrors.required('metadata.name', 'name or generateName is required'),
      ]);
    const name = metadata.name;
    this.identity(body, 'Deployment', namespace, name);
    const draft = {
      metadata: { name, labels: unlessEmpty(metadata.labels), annotations: unlessEmpty(metadata.annotations) },
      spec: defaultDeploymentSpec(body.spec),
    };
    // A new object has no selector to keep: validated against itself, only the update's other rules apply.
    const errors = validateDeploymentUpdate(draft, { spec: draft.spec }, this.maxReplicas);
    if (errors.length) throw invalidObject('Deployment', 'apps', name, errors);
    return this.store.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace,
        labels: draft.metadata.labels as Record<string, string> | undefined,
        annotations: draft.metadata.annotations as Record<string, string> | undefined,
      },
      spec: draft.spec,
    });
  }

  /**
   * DELETE on deployments/NAME: it goes at once, its ReplicaSets and their pods after it, as the garbage
   * collector's background propagation (kubectl's default) deletes them; Orphan, which would keep them, is
   * refused. The answer is a Status naming what went, as the API server's registry gives for a resource
   * that does not return the deleted object (apiserver registry/generic/registry/store.go, finalizeDelete).
   */
  deleteDeployment(namespace: string, name: string, query: URLSearchParams, body: Buffer): DeletedStatus {
    const options = body.length ? parseBody(body) : {};
    if (!isObject(options)) throw badRequest('DeleteOptions must be an object');
    if (options.dryRun !== undefined || query.has('dryRun')) throw badRequest('dryRun is not supported by this API');
    const policy = options.propagationPolicy ?? query.get('propagationPolicy') ?? undefined;
    if (policy === 'Orphan' || options.orphanDependents === true || query.get('orphanDependents') === 'true')
      throw badRequest("propagationPolicy Orphan is not supported by this API: a Deployment's ReplicaSets go with it");
    if (policy !== undefined && policy !== null && policy !== 'Background' && policy !== 'Foreground')
      throw badRequest(`propagationPolicy: unsupported value ${JSON.stringify(policy)}: Background, Foreground`);
    const current = this.store.read('deployments', namespace, name);
    const preconditions = isObject(options.preconditions) ? options.preconditions : {};
    for (const field of ['uid', 'resourceVersion'] as const) {
      const asked = preconditions[field];
      if (asked !== undefined && asked !== null && asked !== current.metadata[field])
        throw new ApiError(
          409,
          'Conflict',
          `Precondition failed: ${field} in precondition: ${String(asked)}, ${field} in object meta: ${String(current.metadata[field])}`,
        );
    }
    const deleted = this.store.delete('deployments', namespace, name);
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: 'apps', kind: 'deployments', uid: deleted.metadata.uid },
    };
  }

  /** The metadata of the body: its name and namespace must be the URL's (checkName: 400 otherwise). */
  private identity(
    object: Record<string, unknown>,
    kind: string,
    namespace: string,
    name: string,
  ): Record<string, unknown> {
    if (object.metadata !== undefined && !isObject(object.metadata))
      throw badRequest(`a ${kind}'s metadata is an object`);
    const metadata = object.metadata ?? {};
    if (metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(metadata.name ?? '')}) does not match the name on the URL (${name})`,
      );
    if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    return metadata;
  }

  /** A resourceVersion in the body is a precondition: a stale one is 409 Conflict. */
  private checkVersion(current: KubeObject, asked: unknown): void {
    if (asked !== undefined && asked !== '' && asked !== current.metadata.resourceVersion)
      throw conflict('deployments', 'apps', current.metadata.name);
  }
}
