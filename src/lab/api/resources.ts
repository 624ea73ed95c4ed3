// The resource types the lab's API serves, with what discovery tells clients about them: kubectl resolves
// `po`, `deploy`, `rs`, `svc` and `ns` through these short names and picks the URL from group and version.

export type ResourceName = 'namespaces' | 'pods' | 'services' | 'deployments' | 'replicasets' | 'endpointslices';

export interface ResourceType {
  name: ResourceName;
  singular: string;
  kind: string;
  group: '' | 'apps' | 'discovery.k8s.io';
  version: 'v1';
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** the verbs this API serves for the resource, as discovery advertises them */
  verbs: string[];
  /** whether spec changes bump metadata.generation (what `kubectl rollout status` compares) */
  tracksGeneration: boolean;
  /**
   * whether annotation changes bump it too: a Deployment's do, because its controller copies them to the
   * ReplicaSet (kubernetes pkg/registry/apps/deployment/strategy.go PrepareForUpdate)
   */
  annotationsBumpGeneration?: boolean;
  /** subresources, as discovery lists them (`deployments/scale`) */
  subresources: Array<{ name: string; kind: string; group?: string; version?: string; verbs: string[] }>;
}

const readOnly = ['get', 'list', 'watch'];

export const RESOURCES: readonly ResourceType[] = [
  {
    name: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    group: '',
    version: 'v1',
    namespaced: false,
    shortNames: ['ns'],
    categories: [],
    verbs: readOnly,
    tracksGeneration: false,
    subresources: [],
  },
  {
    name: 'pods',
    singular: 'pod',
    kind: 'Pod',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    verbs: [...readOnly, 'delete'],
    tracksGeneration: false,
    subresources: [{ name: 'log', kind: 'Pod', verbs: ['get'] }],
  },
  {
    name: 'services',
    singular: 'service',
    kind: 'Service',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    verbs: readOnly,
    tracksGeneration: false,
    subresources: [],
  },
  {
    name: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    verbs: [...readOnly, 'create', 'delete', 'patch', 'update'],
    tracksGeneration: true,
    annotationsBumpGeneration: true,
    subresources: [
      { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
    ],
  },
  {
    // Written by the Deployment controller through the store; clients read them (`kubectl get rs`,
    // `rollout history`, `rollout undo`), as the lab serves no writes to them.
    name: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    verbs: readOnly,
    tracksGeneration: true,
    subresources: [],
  },
  {
    name: 'endpointslices',
    singular: 'endpointslice',
    kind: 'EndpointSlice',
    group: 'discovery.k8s.io',
    version: 'v1',
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: readOnly,
    tracksGeneration: false,
    subresources: [],
  },
];

export const GROUPS = ['apps', 'discovery.k8s.io'] as const;

export const apiVersionOf = (type: Pick<ResourceType, 'group' | 'version'>) =>
  type.group ? `${type.group}/${type.version}` : type.version;

export function resourceType(name: ResourceName): ResourceType {
  const type = RESOURCES.find((candidate) => candidate.name === name);
  if (!type) throw new Error(`unknown resource ${name}`);
  return type;
}

/** The resource served at `/api/v1/…` (group '') or `/apis/GROUP/VERSION/…` under that plural name, if any. */
export function findResource(group: string, version: string, name: string): ResourceType | undefined {
  return RESOURCES.find((type) => type.group === group && type.version === version && type.name === name);
}
