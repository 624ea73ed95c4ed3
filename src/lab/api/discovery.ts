// What clients ask before anything else: /version (the machine's kubectl picks its client by the minor),
// then the groups and their resources. The plain APIVersions/APIGroupList/APIResourceList are enough:
// kubectl also offers to take the aggregated form, and reads these when the answer is plain JSON.
import { apiVersionOf, GROUPS, RESOURCES, type ResourceType } from './resources.js';

/** The Kubernetes release whose API (the part the lab serves) and clients the lab matches. */
const KUBERNETES_VERSION = { major: '1', minor: '33', patch: '0' };

export function version() {
  const { major, minor, patch } = KUBERNETES_VERSION;
  return {
    major,
    minor,
    gitVersion: `v${major}.${minor}.${patch}`,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '',
    goVersion: '',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function coreVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupInfo(name: string) {
  const groupVersion = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [groupVersion], preferredVersion: groupVersion };
}

export const apiGroup = (name: string) => ({ kind: 'APIGroup', apiVersion: 'v1', ...groupInfo(name) });

export const groupList = () => ({ kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(groupInfo) });

/** The APIResourceList of one group version (group '' is the core group, `/api/v1`), or undefined. */
export function resourceList(group: string, version: string) {
  const types = RESOURCES.filter((type) => type.group === group && type.version === version);
  if (!types.length) return undefined;
  const resources = types.flatMap((type) => [
    {
      name: type.name,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.verbs,
      ...(type.shortNames.length && { shortNames: type.shortNames }),
      ...(type.categories.length && { categories: type.categories }),
    },
    ...type.subresources.map((sub) => ({
      name: `${type.name}/${sub.name}`,
      singularName: '',
      namespaced: type.namespaced,
      ...(sub.group && { group: sub.group, version: sub.version }),
      kind: sub.kind,
      verbs: sub.verbs,
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0] as ResourceType), resources };
}
