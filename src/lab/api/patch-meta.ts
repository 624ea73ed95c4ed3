// What a strategic merge patch needs to know about the lab's types: which lists merge by a key and which
// fields keep only the keys a patch names. These are the Go struct tags `patchStrategy` and
// `patchMergeKey` of k8s.io/api (core/v1/types.go, apps/v1/types.go) and k8s.io/apimachinery
// (pkg/apis/meta/v1/types.go), the source apimachinery's strategicpatch reads them from. A field not
// listed has no strategy: a map in it is merged key by key, a list in it is replaced whole.

export type PatchStrategy = 'merge' | 'retainKeys' | 'replace';

export interface FieldMeta {
  strategies?: PatchStrategy[];
  /** the key that identifies a list element (`name` for containers) */
  mergeKey?: string;
  /** the type of the field, or of its list's elements */
  type?: TypeMeta;
}

export interface TypeMeta {
  /** for messages: the Go type's name */
  name: string;
  fields: Record<string, FieldMeta>;
}

const struct = (name: string, fields: Record<string, FieldMeta> = {}): TypeMeta => ({ name, fields });
const merge = (mergeKey?: string, type?: TypeMeta): FieldMeta => ({ strategies: ['merge'], mergeKey, type });

/** meta/v1 ObjectMeta: ownerReferences merge by uid; finalizers are a merging list of strings. */
const OBJECT_META = struct('ObjectMeta', {
  ownerReferences: merge('uid', struct('OwnerReference')),
  finalizers: merge(),
});

/** core/v1 Container (and EphemeralContainer, which shares its lists). */
const CONTAINER = struct('Container', {
  ports: merge('containerPort', struct('ContainerPort')),
  env: merge('name', struct('EnvVar')),
  volumeMounts: merge('mountPath', struct('VolumeMount')),
  volumeDevices: merge('devicePath', struct('VolumeDevice')),
});

/** core/v1 PodSpec. */
const POD_SPEC = struct('PodSpec', {
  volumes: { strategies: ['merge', 'retainKeys'], mergeKey: 'name', type: struct('Volume') },
  initContainers: merge('name', CONTAINER),
  containers: merge('name', CONTAINER),
  ephemeralContainers: merge('name', CONTAINER),
  imagePullSecrets: merge('name', struct('LocalObjectReference')),
  hostAliases: merge('ip', struct('HostAlias')),
  topologySpreadConstraints: merge('topologyKey', struct('TopologySpreadConstraint')),
  schedulingGates: merge('name', struct('PodSchedulingGate')),
  resourceClaims: { strategies: ['merge', 'retainKeys'], mergeKey: 'name', type: struct('PodResourceClaim') },
});

const POD_TEMPLATE_SPEC = struct('PodTemplateSpec', { metadata: { type: OBJECT_META }, spec: { type: POD_SPEC } });

/** apps/v1 Deployment: spec.strategy keeps only the keys a patch names ($retainKeys); conditions merge by type. */
export const DEPLOYMENT = struct('Deployment', {
  metadata: { type: OBJECT_META },
  spec: {
    type: struct('DeploymentSpec', {
      strategy: { strategies: ['retainKeys'], type: struct('DeploymentStrategy') },
      template: { type: POD_TEMPLATE_SPEC },
    }),
  },
  status: { type: struct('DeploymentStatus', { conditions: merge('type', struct('DeploymentCondition')) }) },
});

/** apps/v1 ReplicaSet. */
export const REPLICA_SET = struct('ReplicaSet', {
  metadata: { type: OBJECT_META },
  spec: { type: struct('ReplicaSetSpec', { template: { type: POD_TEMPLATE_SPEC } }) },
  status: { type: struct('ReplicaSetStatus', { conditions: merge('type', struct('ReplicaSetCondition')) }) },
});

/** autoscaling/v1 Scale. */
export const SCALE = struct('Scale', { metadata: { type: OBJECT_META } });

/** The meta of a field of `type`; an unknown field has none (no strategy, no key, no known type). */
export function fieldMeta(type: TypeMeta | undefined, key: string): FieldMeta {
  return (type && Object.hasOwn(type.fields, key) ? type.fields[key] : undefined) ?? {};
}
