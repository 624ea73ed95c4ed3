// The API's URL space: /api/v1/… for the core group, /apis/GROUP/VERSION/… for the others, then
// [namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]] — or a discovery document on the way there. A `watch/`
// before the resource is the old form of `?watch=true`.
import { findResource, GROUPS, type ResourceType } from './resources.js';

/** A resource's collection: in one namespace, or across all of them (namespace absent). */
export interface CollectionRoute {
  to: 'collection';
  type: ResourceType;
  namespace?: string;
  watchPrefix: boolean;
}

/** One object of a namespaced resource (a pod, a Deployment), or one of its subresources. */
export interface NamespacedObjectRoute {
  to: 'namespaced-object';
  type: ResourceType;
  namespace: string;
  name: string;
  subresource?: string;
  watchPrefix: boolean;
}

/** One object of a cluster-scoped resource (a namespace). */
export interface ClusterObjectRoute {
  to: 'cluster-object';
  type: ResourceType;
  name: string;
  subresource?: string;
  watchPrefix: boolean;
}

export type ObjectRoute = NamespacedObjectRoute | ClusterObjectRoute;

export type Route =
  | { to: 'version' | 'core-versions' | 'groups' | 'health' }
  | { to: 'group'; group: string }
  | { to: 'resources'; group: string; version: string }
  | CollectionRoute
  | ObjectRoute
  | { to: 'none' };

function resourcePath(group: string, version: string, parts: string[]): Route {
  const watchPrefix = parts[0] === 'watch';
  const rest = watchPrefix ? parts.slice(1) : parts;
  const [first, second, third, fourth, fifth, ...extra] = rest;
  if (first === undefined) return { to: 'resources', group, version };
  if ([first, second, third, fourth, fifth].some((part) => part === '')) return { to: 'none' };
  const namespacedType =
    first === 'namespaces' && second !== undefined && third !== undefined
      ? findResource(group, version, third)
      : undefined;
  if (namespacedType?.namespaced && second !== undefined) {
    if (extra.length) return { to: 'none' };
    const [name, subresource] = [fourth, fifth];
    if (subresource !== undefined && !namespacedType.subresources.some((sub) => sub.name === subresource))
      return { to: 'none' };
    if (name === undefined) return { to: 'collection', type: namespacedType, namespace: second, watchPrefix };
    return { to: 'namespaced-object', type: namespacedType, namespace: second, name, subresource, watchPrefix };
  }
  const type = findResource(group, version, first);
  if (!type || fourth !== undefined) return { to: 'none' };
  const [name, subresource] = [second, third];
  if (name === undefined) return { to: 'collection', type, watchPrefix };
  // A namespaced resource's objects are only reachable through their namespace.
  if (type.namespaced) return { to: 'none' };
  if (subresource !== undefined && !type.subresources.some((sub) => sub.name === subresource)) return { to: 'none' };
  return { to: 'cluster-object', type, name, subresource, watchPrefix };
}

export function route(pathname: string): Route {
  let parts: string[];
  try {
    parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { to: 'none' };
  }
  const [root, a, b, ...rest] = parts;
  if (root === 'version' && a === undefined) return { to: 'version' };
  if (['healthz', 'livez', 'readyz'].includes(root ?? '') && a === undefined) return { to: 'health' };
  if (root === 'api') {
    if (a === undefined) return { to: 'core-versions' };
    if (a !== 'v1') return { to: 'none' };
    return resourcePath('', 'v1', b === undefined ? [] : [b, ...rest]);
  }
  if (root === 'apis') {
    if (a === undefined) return { to: 'groups' };
    if (!(GROUPS as readonly string[]).includes(a)) return { to: 'none' };
    if (b === undefined) return { to: 'group', group: a };
    if (b !== 'v1') return { to: 'none' };
    return resourcePath(a, b, rest);
  }
  return { to: 'none' };
}
