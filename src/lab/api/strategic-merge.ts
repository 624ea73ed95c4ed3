// Strategic merge patch, applied as the API server applies it: apimachinery's
// pkg/util/strategicpatch/patch.go (StrategicMergeMapPatch with MergeParallelList and IgnoreUnmatchedNulls),
// ported function by function. It is a JSON merge patch in which lists of objects merge element by element
// on their patch merge key (patch-meta.ts), and in which these directives are honoured:
// - `$patch: replace` (a map or list is replaced, not merged) and `$patch: delete` (a map is cleared; a list
//   element, named by its merge key, is removed); `$patch: merge` is refused, as apimachinery refuses it;
// - `$setElementOrder/<list>`: the order of the list after the merge (what kubectl's two-way patches send);
// - `$retainKeys`: the keys a map keeps (a Deployment's strategy, a volume);
// - `$deleteFromPrimitiveList/<list>`: values removed from a merging list of strings.
// The patch and the object are plain JSON from json.ts (no prototype keys); both are copied, not changed.
// apimachinery answers a few malformed patches with 500; here every malformed patch is the client's 400.
import { ApiError, badRequest } from './status.js';
import { fieldMeta, type FieldMeta, type TypeMeta } from './patch-meta.js';
import { isObject, setOwn } from './json.js';

type Obj = Record<string, unknown>;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';

/** mergepatch's errors that the API server answers with 422 (interpretStrategicMergePatchError). */
const unprocessable = (message: string) => new ApiError(422, 'Invalid', message);

/** The kind of a JSON value, as reflect.TypeOf tells Go's decoded values apart. */
function kindOf(value: unknown): 'map' | 'slice' | 'string' | 'number' | 'bool' | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'slice';
  if (isObject(value)) return 'map';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  return 'bool';
}

/** extractRetainKeysPatchStrategy: ['merge', 'retainKeys'] → 'merge'; ['retainKeys'] → ''. */
function strategyOf(meta: FieldMeta): string {
  const strategies = (meta.strategies ?? []).filter((strategy) => strategy !== 'retainKeys');
  return strategies[0] ?? '';
}

/**
 * removeDirectives: a value taken whole from the patch loses its directives. A map carrying `$patch` is
 * dropped; the `$…` keys of the others are dropped too, as decoding into the typed object drops them.
 * discardNullValuesFromPatch is folded in: a null in a map means "absent" when there is nothing to delete.
 */
function whole(value: unknown): { keep: boolean; value: unknown } {
  if (Array.isArray(value)) {
    const items = value.map(whole).filter((item) => item.keep);
    return { keep: true, value: items.map((item) => item.value) };
  }
  if (!isObject(value)) return { keep: true, value };
  if (Object.hasOwn(value, DIRECTIVE)) return { keep: false, value: undefined };
  const result: Obj = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$') || child === null) continue;
    const cleaned = whole(child);
    if (cleaned.keep) setOwn(result, key, cleaned.value);
  }
  return { keep: true, value: result };
}

/** extractKey: `$setElementOrder/containers` → `containers`. */
function listKey(key: string, prefix: string): string {
  const [head, rest] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
  if (!key.includes('/') || head !== prefix) {
    throw badRequest(
      prefix === SET_ELEMENT_ORDER
        ? 'invalid patch format of setElementOrder list'
        : 'invalid patch format of primitive list',
    );
  }
  return rest;
}

/** The merge key's value of a list element, or a 400 naming the element (ErrNoMergeKey). */
function mergeValue(element: unknown, mergeKey: string): unknown {
  if (!isObject(element)) throw badRequest(`a list merged by ${mergeKey} holds ${JSON.stringify(element)}`);
  if (!Object.hasOwn(element, mergeKey))
    throw badRequest(`map: ${JSON.stringify(element)} does not contain declared merge key: ${mergeKey}`);
  return element[mergeKey];
}

/** index(): where `value` (by merge key for maps) sits in `list`, or -1. */
function indexIn(list: unknown[], value: unknown, mergeKey: string, kind: string): number {
  const keyOf = (item: unknown) => (kind === 'map' ? (isObject(item) ? item[mergeKey] : undefined) : item);
  const wanted = keyOf(value);
  return list.findIndex((item) => keyOf(item) === wanted);
}

/** sliceElementType: the one kind of every element; lists of lists and mixed lists are refused. */
function elementKind(...lists: unknown[][]): string | undefined {
  let kind: string | undefined;
  for (const item of lists.flat()) {
    const next = kindOf(item);
    if (kind === undefined) {
      if (next === 'slice') throw unprocessable('lists of lists are not supported');
      kind = next;
    } else if (next !== kind) throw badRequest(`list element types are not identical: ${JSON.stringify(lists)}`);
  }
  return kind;
}

/** normalizeSliceOrder: sorted by the order list (a stable sort); `$patch: delete` elements go last. */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string, kind: string): unknown[] {
  let rest = items;
  let deletions: unknown[] = [];
  if (kind === 'map') {
    for (const item of [...items, ...order]) mergeValue(item, mergeKey);
    deletions = items.filter((item) => isObject(item) && item[DIRECTIVE] === 'delete');
    rest = items.filter((item) => !deletions.includes(item));
  }
  const rank = (item: unknown) => {
    const at = indexIn(order, item, mergeKey, kind);
    return at < 0 ? Number.POSITIVE_INFINITY : at;
  };
  return [...[...rest].sort((a, b) => rank(a) - rank(b)), ...deletions];
}

/** mergeSortedSlice: interleaves the server-only items into the patch's, keeping both relative orders. */
function interleave(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, kind: string) {
  const result: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) result.push(right[j++]);
    else if (j >= right.length) result.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) result.push(left[i++]);
      else result.push(right[j++]);
    }
  }
  return result;
}

/** normalizeElementOrder: patch items in the patch's order, server-only items placed by the live order. */
function normalizeOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: string,
): unknown[] {
  const patch = sortByOrder(patchItems, patchOrder, mergeKey, kind);
  const server = sortByOrder(serverOnly, serverOrder, mergeKey, kind);
  return interleave(server, patch, serverOrder, mergeKey, kind);
}

/** partition…ByPresentInList: the items named in `by` (by merge key for maps), then the others. */
function partition(items: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const named = (item: unknown) =>
    mergeKey
      ? by.some(
          (other) =>
            isObject(other) && Object.hasOwn(other, mergeKey) && other[mergeKey] === mergeValue(item, mergeKey),
        )
      : by.includes(item);
  return [items.filter(named), items.filter((item) => !named(item))];
}

/** mergeSliceWithSpecialElements: `$patch: delete` removes by merge key, `$patch: replace` replaces the list. */
function applyListDirectives(original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
  let result = original;
  let replace = false;
  const plain: unknown[] = [];
  for (const element of patch) {
    const item = element as Obj;
    if (!Object.hasOwn(item, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      const value = mergeValue(item, mergeKey);
      result = result.filter((other) => !(isObject(other) && other[mergeKey] === value));
    } else if (directive === 'replace') replace = true;
    else if (directive === 'merge') throw badRequest('merging lists cannot yet be specified in the patch');
    else throw badRequest(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(item)}`);
  }
  return replace ? [plain.map((item) => whole(item).value), []] : [result, plain];
}

/** mergeSlice. */
function mergeList(original: unknown[], patch: unknown[], meta: FieldMeta, deleteList: boolean): unknown[] {
  if (!original.length && !patch.length) return original;
  const kind = elementKind(original, patch) as string;
  const mergeKey = meta.mergeKey ?? '';
  let merged: unknown[];
  let base = original;
  let changes = patch;
  if (kind !== 'map') {
    if (deleteList) return original.filter((item) => !patch.includes(item));
    merged = [...new Set([...original, ...patch])];
  } else {
    if (!mergeKey) throw badRequest(`cannot merge lists without merge key for ${meta.type?.name ?? 'this list'}`);
    [base, changes] = applyListDirectives(original, patch, mergeKey);
    merged = [...base];
    for (const change of changes) {
      const value = mergeValue(change, mergeKey);
      const at = merged.findIndex((item) => {
        if (!isObject(item)) throw badRequest(`a list merged by ${mergeKey} holds ${JSON.stringify(item)}`);
        return Object.hasOwn(item, mergeKey) && item[mergeKey] === value;
      });
      if (at >= 0) merged[at] = mergeObject(merged[at] as Obj, change as Obj, meta.type);
      else merged.push(whole(change).value);
    }
  }
  const [patchItems, serverOnly] = partition(merged, changes, mergeKey);
  return normalizeOrder(patchItems, serverOnly, changes, base, mergeKey, kind);
}

/** mergeSliceHandler: lists with the merge strategy merge, others are replaced by the patch's list. */
function mergeListField(original: unknown[], patch: unknown[], meta: FieldMeta, deleteList: boolean): unknown[] {
  if (strategyOf(meta) === 'merge' || deleteList) return mergeList(original, patch, meta, deleteList);
  return whole(patch).value as unknown[];
}

/** validatePatchWithSetOrderList: the patch's list is in the order `$setElementOrder` gives. */
function checkOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (!order.length || !patchList.length) return;
  const items = mergeKey ? patchList.filter((item) => !(isObject(item) && item[DIRECTIVE] === 'delete')) : patchList;
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    if (isObject(items[p]) && Object.hasOwn(items[p] as Obj, DIRECTIVE)) {
      p++;
      continue;
    }
    const same = mergeKey ? mergeValue(items[p], mergeKey) === mergeValue(order[o], mergeKey) : items[p] === order[o];
    if (same) p++;
    o++;
  }
  if (p < items.length)
    throw badRequest(
      `The order in patch list:\n${JSON.stringify(patchList)}\n doesn't match $setElementOrder list:\n${JSON.stringify(order)}\n`,
    );
}

/** mergePatchIntoOriginal: each `$setElementOrder/<list>` with its list, merged, then put in that order. */
function applyElementOrders(original: Obj, patch: Obj, type: TypeMeta | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw badRequest('invalid patch format of setElementOrder list');
    const name = listKey(key, SET_ELEMENT_ORDER);
    const inOriginal = Object.hasOwn(original, name);
    const inPatch = Object.hasOwn(patch, name);
    const originalList = original[name];
    const patchList = patch[name];
    if ((inOriginal && !Array.isArray(originalList)) || (inPatch && !Array.isArray(patchList)))
      throw badRequest(`$setElementOrder/${name} applies to a list, and ${name} is not one`);
    const meta = fieldMeta(type, name);
    const mergeKey = meta.mergeKey ?? '';
    checkOrder((patchList as unknown[] | undefined) ?? [], order, mergeKey);
    let merged: unknown[];
    if (inOriginal && inPatch) merged = mergeListField(originalList as unknown[], patchList as unknown[], meta, false);
    else if (inPatch) merged = whole(patchList).value as unknown[];
    else if (inOriginal) merged = originalList as unknown[];
    else continue;
    const kind = elementKind((originalList as unknown[] | undefined) ?? [], (patchList as unknown[] | undefined) ?? []);
    if (kind !== undefined) {
      const [patchItems, serverOnly] = partition(merged, order, mergeKey);
      const merging = inOriginal && inPatch && kind === 'map' && strategyOf(meta) === 'merge';
      const live = merging
        ? liveOrderAfterMerge(originalList as unknown[], patchList as unknown[], mergeKey)
        : ((originalList as unknown[] | undefined) ?? []);
      merged = normalizeOrder(patchItems, serverOnly, order, live, mergeKey, kind);
    }
    setOwn(original, name, merged);
    delete patch[name];
  }
}

/**
 * The live list as mergePatchIntoOriginal reads it back for ordering, after mergeSlice has worked on it. In
 * Go that list shares its backing array with the slice mergeSlice edits in place: each `$patch: delete`
 * shifts the later elements left (leaving the last one twice), and each new element is appended into the
 * freed places while there is room. apimachinery's expected results (patch_test.go, "add map and delete
 * map from merging list") follow from that, so the order here does too.
 */
function liveOrderAfterMerge(original: unknown[], patch: unknown[], mergeKey: string): unknown[] {
  const backing = [...original];
  let length = backing.length;
  const plain: unknown[] = [];
  for (const element of patch) {
    if (!isObject(element) || !Object.hasOwn(element, DIRECTIVE)) {
      plain.push(element);
      continue;
    }
    if (element[DIRECTIVE] === 'replace') return backing;
    if (element[DIRECTIVE] !== 'delete') continue;
    for (let at = indexIn(backing.slice(0, length), element, mergeKey, 'map'); at >= 0;) {
      backing.copyWithin(at, at + 1, length);
      length--;
      at = indexIn(backing.slice(0, length), element, mergeKey, 'map');
    }
  }
  for (const element of plain) {
    if (indexIn(backing.slice(0, length), element, mergeKey, 'map') >= 0) continue;
    if (length === backing.length) break;
    backing[length++] = element;
  }
  return backing;
}

/** applyRetainKeysDirective: the map keeps only the keys `$retainKeys` names; the patch may name no others. */
function applyRetainKeys(original: Obj, patch: Obj): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const keys = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(keys)) throw badRequest('invalid patch format of retainKeys');
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keys.includes(key)) throw badRequest('invalid patch format of retainKeys');
  }
  for (const key of Object.keys(original)) if (!keys.includes(key)) delete original[key];
}

/** mergeMap: the heart of it. `original` is a copy this function may change. */
function mergeObject(original: Obj, patch: Obj, type: TypeMeta | undefined): Obj {
  const changes: Obj = { ...patch };
  if (Object.hasOwn(changes, DIRECTIVE)) {
    const directive = changes[DIRECTIVE];
    if (directive === 'replace') {
      delete changes[DIRECTIVE];
      return whole(changes).value as Obj;
    }
    if (directive === 'delete') return {};
    throw badRequest(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const result: Obj = { ...original };
  applyRetainKeys(result, changes);
  applyElementOrders(result, changes, type);
  for (const [patchKey, value] of Object.entries(changes)) {
    let key = patchKey;
    let deleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = listKey(patchKey, DELETE_FROM_PRIMITIVE_LIST);
      deleteList = true;
    } else if (patchKey.startsWith('$')) throw badRequest(`unknown strategic merge patch directive ${patchKey}`);
    if (value === null) {
      delete result[key];
      continue;
    }
    if (!Object.hasOwn(result, key) || kindOf(result[key]) !== kindOf(value)) {
      if (deleteList) continue;
      const taken = whole(value);
      if (taken.keep) setOwn(result, key, taken.value);
      else delete result[key];
      continue;
    }
    const meta = fieldMeta(type, key);
    const current = result[key];
    if (isObject(current)) {
      setOwn(
        result,
        key,
        strategyOf(meta) === 'replace' ? whole(value).value : mergeObject(current, value as Obj, meta.type),
      );
    } else if (Array.isArray(current)) {
      setOwn(result, key, mergeListField(current, value as unknown[], meta, deleteList));
    } else {
      const taken = whole(value);
      if (taken.keep) setOwn(result, key, taken.value);
      else delete result[key];
    }
  }
  return result;
}

/** Applies a strategic merge patch to a copy of `original`, an object of the type `type` describes. */
export function strategicMerge(original: unknown, patch: unknown, type: TypeMeta): Obj {
  if (!isObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
  if (!isObject(original)) throw badRequest('a strategic merge patch applies to an object');
  return mergeObject(structuredClone(original), structuredClone(patch), type);
}
