// The writes the lab's API accepts on a Deployment: its replica count, through the scale subresource
// (`kubectl scale` sends a merge patch there) or the Deployment itself, plus labels and annotations.
// Other changes (a new pod template, a strategy) would need a rollout the lab does not run: they get
// a 422 naming what may change, not a silent success.
import { applyPatch, type Json, type PatchType } from './patch.js';
import { selectorText, type LabelSelector } from './selectors.js';
import type { KubeObject, ObjectStore } from './store.js';
import { ApiError, badRequest, invalid } from './status.js';

export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: Pick<KubeObject['metadata'], 'name' | 'namespace' | 'uid' | 'resourceVersion' | 'creationTimestamp'>;
  spec: { replicas: number };
  status: { replicas: number; selector: string };
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

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sorted keys, so that two objects compare equal whatever order a client wrote them in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const forbiddenChange = (name: string) =>
  invalid(
    'Deployment',
    'apps',
    name,
    'spec',
    'Forbidden: the lab changes only spec.replicas, metadata.labels and metadata.annotations of a Deployment',
  );

export class DeploymentWrites {
  constructor(
    private readonly store: ObjectStore,
    private readonly maxReplicas: number,
  ) {}

  private replicas(kind: 'Scale' | 'Deployment', name: string, value: unknown): number {
    const group = kind === 'Scale' ? 'autoscaling' : 'apps';
    const fail = (why: string) =>
      invalid(kind, group, name, 'spec.replicas', `Invalid value: ${JSON.stringify(value)}: ${why}`);
    if (typeof value !== 'number' || !Number.isInteger(value)) throw fail('must be a whole number');
    if (value < 0) throw fail('must be greater than or equal to 0');
    if (value > this.maxReplicas) throw fail(`must be less than or equal to ${this.maxReplicas}`);
    return value;
  }

  private checkVersion(current: KubeObject, asked: unknown): void {
    if (asked !== undefined && asked !== '' && asked !== current.metadata.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on deployments.apps "${current.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: current.metadata.name, group: 'apps', kind: 'deployments' },
      );
    }
  }

  private setReplicas(current: KubeObject, replicas: number, labels?: unknown, annotations?: unknown): KubeObject {
    const stringMap = (value: unknown) =>
      value === null || (isObject(value) && Object.values(value).every((v) => typeof v === 'string'));
    if (labels !== undefined && !stringMap(labels))
      throw invalid(
        'Deployment',
        'apps',
        current.metadata.name,
        'metadata.labels',
        'Invalid value: labels map names to strings',
      );
    if (annotations !== undefined && !stringMap(annotations))
      throw invalid(
        'Deployment',
        'apps',
        current.metadata.name,
        'metadata.annotations',
        'Invalid value: annotations map names to strings',
      );
    const next = structuredClone(current);
    next.spec = { ...next.spec, replicas };
    if (labels !== undefined) next.metadata.labels = (labels ?? undefined) as Record<string, string> | undefined;
    if (annotations !== undefined)
      next.metadata.annotations = (annotations ?? undefined) as Record<string, string> | undefined;
    return this.store.update('deployments', next);
  }

  getScale(namespace: string, name: string): Scale {
    return scaleOf(this.store.read('deployments', namespace, name));
  }

  /** PATCH (with a patch type) or PUT (patchType undefined) on deployments/NAME/scale. */
  writeScale(namespace: string, name: string, body: unknown, patchType?: PatchType): Scale {
    const current = this.store.read('deployments', namespace, name);
    const scale = patchType ? applyPatch(patchType, scaleOf(current), body as Json) : body;
    if (!isObject(scale) || !isObject(scale.spec)) throw badRequest('a Scale needs a spec');
    const metadata = isObject(scale.metadata) ? scale.metadata : {};
    if (metadata.name !== undefined && metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
      );
    this.checkVersion(current, metadata.resourceVersion);
    return scaleOf(this.setReplicas(current, this.replicas('Scale', name, scale.spec.replicas)));
  }

  /** PATCH (with a patch type) or PUT (patchType undefined) on deployments/NAME. */
  writeDeployment(namespace: string, name: string, body: unknown, patchType?: PatchType): KubeObject {
    const current = this.store.read('deployments', namespace, name);
    if (patchType && patchType !== 'application/json-patch+json' && isObject(body)) {
      // Refused before it is applied: a strategic patch of the template would otherwise fail on its list directives.
      const allowed: Record<string, string[] | undefined> = {
        metadata: ['labels', 'annotations', 'resourceVersion', 'name'],
        spec: ['replicas'],
      };
      const outside = Object.entries(body).some(
        ([key, value]) =>
          !(key in allowed) || !isObject(value) || Object.keys(value).some((k) => !allowed[key]?.includes(k)),
      );
      if (outside) throw forbiddenChange(name);
    }
    const next = patchType ? applyPatch(patchType, current, body as Json) : body;
    if (!isObject(next) || !isObject(next.metadata)) throw badRequest('a Deployment needs metadata');
    const metadata = next.metadata;
    if (metadata.name !== undefined && metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
      );
    this.checkVersion(current, metadata.resourceVersion);
    const fixed = (object: Record<string, unknown>) => {
      const spec = isObject(object.spec) ? { ...object.spec, replicas: undefined } : object.spec;
      return canonical({ spec });
    };
    if (fixed(next) !== fixed(current)) {
      throw forbiddenChange(name);
    }
    const spec = isObject(next.spec) ? next.spec : {};
    // `next` is the whole object as it is to be: labels it lacks are removed, not kept.
    return this.setReplicas(
      current,
      this.replicas('Deployment', name, spec.replicas ?? 1),
      metadata.labels ?? null,
      metadata.annotations ?? null,
    );
  }
}
