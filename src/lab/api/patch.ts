// The three patch types kubectl and client libraries send, applied to a copy of an object: JSON merge patch
// (RFC 7386: `kubectl scale`, `kubectl label`, `--type merge`), strategic merge patch (kubectl's default:
// `kubectl patch`, `set env`, `set image`, `rollout restart`; strategic-merge.ts) and JSON patch
// (RFC 6902: `kubectl rollout undo`, @kubernetes/client-node; json-patch.ts). Every patch is checked as a
// body is (json.ts) before it is applied, also when it comes from code in this process rather than HTTP.
import { applyJsonPatch } from './json-patch.js';
import { checkJson, isObject, setOwn } from './json.js';
import type { TypeMeta } from './patch-meta.js';
import { badRequest } from './status.js';
import { strategicMerge } from './strategic-merge.js';

export const PATCH_TYPES = [
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

/** RFC 7386: objects merge key by key, null removes a key, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value));
  }
  return result;
}

/**
 * Applies a patch of the given content type to a copy of `target`, an object of the type `type` describes
 * (its list merge keys, for a strategic merge patch). Bad patches are 400/413/422 ApiErrors.
 */
export function applyPatch(patchType: PatchType, target: unknown, patch: unknown, type: TypeMeta): unknown {
  checkJson(patch, 'the patch');
  if (patchType === 'application/json-patch+json') return applyJsonPatch(target, patch);
  if (!isObject(patch)) throw badRequest(`a ${patchType} body must be a JSON object`);
  if (patchType === 'application/strategic-merge-patch+json') return strategicMerge(target, patch, type);
  return mergePatch(structuredClone(target), patch);
}
