// The API's URL space: /api/v1/… for the core group, /apis/GROUP/VERSION/… for the others, then
// [namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]] — or a discovery document on the way there.
import { findResource, GROUPS, type ResourceType } from './resources.js';

export type Route =
  | { to: 'version' | 'core-versions' | 'groups' | 'health' }
  | { to: 'group'; group: string }
  | { to: 'resources'; group: string; version: string }
  | {
      to: 'resource';
      type: ResourceType;
      namespace?: string;
      name?: string;
      subresource?: string;
      watchPrefix: boolean;
    }
  | { to: 'none' };

function resourcePath(group: string, version: string, parts: string[]): Route {
  const watchPrefix = parts[0] === 'watch';
  const rest = watchPrefix ? parts.slice(1) : parts;
  const [first, second, third, fourth, fifth, ...extra] = rest;
  if (first === undefined) return { to: 'resources', group, version };
  let namespace: string | undefined;
  let type: ResourceType | undefined;
  let name: string | undefined;
  let subresource: string | undefined;
  if (
    first === 'namespaces' &&
    second !== undefined &&
    third !== undefined &&
    findResource(group, version, third)?.namespaced
  ) {
    namespace = second;
    type = findResource(group, version, third);
    [name, subresource] = [fourth, fifth];
    if (extra.length) return { to: 'none' };
  } else {
    type = findResource(group, version, first);
    [name, subresource] = [second, third];
    if (fourth !== undefined) return { to: 'none' };
  }
  if (!type || (namespace === undefined && name !== undefined && type.namespaced)) return { to: 'none' };
  if (subresource !== undefined && !type.subresources.some((sub) => sub.name === subresource)) return { to: 'none' };
  if ([namespace, name].some((part) => part === '')) return { to: 'none' };
  return { to: 'resource', type, namespace, name, subresource, watchPrefix };
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
