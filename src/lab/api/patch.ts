// The three patch types kubectl and client libraries send: JSON merge patch (RFC 7386, what `kubectl scale`
// sends), strategic merge patch (kubectl's default for `kubectl patch`), and JSON patch (RFC 6902, the
// first type @kubernetes/client-node offers). Strategic merge differs from merge patch only in how it
// merges lists by key and in its `$` directives; the fields the lab lets a patch change hold no lists,
// so it is applied as a merge patch and a `$` directive is refused rather than misread.
import { ApiError, badRequest } from './status.js';

export const PATCH_TYPES = [
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function mergePatch(target: unknown, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: Record<string, Json> = isObject(target) ? { ...(target as Record<string, Json>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function refuseDirectives(patch: Json, path = ''): void {
  if (Array.isArray(patch)) patch.forEach((item, i) => refuseDirectives(item, `${path}[${i}]`));
  else if (isObject(patch)) {
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$'))
        throw new ApiError(
          422,
          'Invalid',
          `strategic merge patch directive ${path}${key} is not supported by this API`,
        );
      refuseDirectives(value, `${path}${key}.`);
    }
  }
}

/** RFC 6901: `/spec/replicas` → ['spec', 'replicas']. */
function pointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/')))
    throw badRequest(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw badRequest('a JSON patch is a list of operations');
  let document = structuredClone(target);
  const parentOf = (path: string[]) => {
    let node: Json = document;
    for (const part of path.slice(0, -1)) {
      node = Array.isArray(node) ? (node[Number(part)] as Json) : isObject(node) ? (node[part] as Json) : null;
      if (node === undefined || node === null || typeof node !== 'object')
        throw new ApiError(422, 'Invalid', `path /${path.join('/')} does not exist`);
    }
    return node as Record<string, Json> | Json[];
  };
  const read = (path: string[]): Json | undefined => (path.length ? parentOf(path)[path.at(-1) as never] : document);
  const write = (path: string[], value: Json | undefined, insert: boolean) => {
    if (!path.length) {
      document = value ?? null;
      return;
    }
    const parent = parentOf(path);
    const last = path.at(-1) as string;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length)
        throw new ApiError(422, 'Invalid', `index ${last} out of range`);
      if (value === undefined) parent.splice(index, 1);
      else parent.splice(index, insert ? 0 : 1, value);
    } else if (value === undefined) delete parent[last];
    else parent[last] = value;
  };
  for (const operation of operations) {
    if (!isObject(operation)) throw badRequest('a JSON patch operation is an object');
    const path = pointer(operation.path);
    const exists = () => {
      if (read(path) === undefined) throw new ApiError(422, 'Invalid', `path ${String(operation.path)} does not exist`);
    };
    switch (operation.op) {
      case 'add':
        write(path, operation.value ?? null, true);
        break;
      case 'replace':
        exists();
        write(path, operation.value ?? null, false);
        break;
      case 'remove':
        exists();
        write(path, undefined, false);
        break;
      case 'test':
        if (JSON.stringify(read(path)) !== JSON.stringify(operation.value))
          throw new ApiError(422, 'Invalid', `test operation on ${String(operation.path)} failed`);
        break;
      case 'copy':
      case 'move': {
        const from = pointer(operation.from);
        const value = read(from);
        if (value === undefined) throw new ApiError(422, 'Invalid', `path ${String(operation.from)} does not exist`);
        if (operation.op === 'move') write(from, undefined, false);
        write(path, structuredClone(value), true);
        break;
      }
      default:
        throw badRequest(`unknown JSON patch operation ${JSON.stringify(operation.op)}`);
    }
  }
  return document;
}

/** Applies a patch of the given content type to a copy of `target`; bad patches are 400/422 ApiErrors. */
export function applyPatch(type: PatchType, target: unknown, patch: Json): Json {
  if (type === 'application/json-patch+json') return jsonPatch(structuredClone(target) as Json, patch);
  if (!isObject(patch)) throw badRequest('a merge patch must be a JSON object');
  if (type === 'application/strategic-merge-patch+json') refuseDirectives(patch);
  return mergePatch(target, patch);
}

export type { Json };
