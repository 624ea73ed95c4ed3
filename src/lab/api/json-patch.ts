// JSON Patch (RFC 6902) over JSON Pointers (RFC 6901): what `kubectl rollout undo` sends (two `replace`
// operations, each replacing a whole subtree) and the first patch type @kubernetes/client-node offers.
// Paths are walked through own properties only and may not name a prototype key, so no path leads out of
// the document. As the API server does (k8s.io/apiserver handlers/patch.go): a malformed patch is 400, more
// than 10,000 operations 413, an operation that does not apply 422.
import { ApiError, badRequest } from './status.js';
import { deepEqual, isObject, PROTOTYPE_KEYS, prototypeKeyError, setOwn } from './json.js';

/** maxJSONPatchOperations in the API server's patch handler. */
export const MAX_OPERATIONS = 10_000;

type Container = Record<string, unknown> | unknown[];

const notApplied = (op: string, path: string, why: string) =>
  new ApiError(422, 'Invalid', `${op} operation does not apply: doc is missing ${why}: ${path}`);

/** RFC 6901: `/spec/template` → ['spec', 'template']; `~1` is `/`, `~0` is `~`. */
function pointer(path: unknown, field: string): string[] {
  if (typeof path !== 'string') throw badRequest(`a JSON patch operation's ${field} must be a string`);
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer ${JSON.stringify(path)}: it must start with /`);
  const tokens = path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  const bad = tokens.find((token) => PROTOTYPE_KEYS.has(token));
  if (bad !== undefined) throw prototypeKeyError(bad, `the JSON pointer ${JSON.stringify(path)}`);
  return tokens;
}

/** An array index token: `0`, `12`, never `01`, `-1` or `1e0`. */
const isIndex = (token: string) => /^(0|[1-9]\d*)$/.test(token);

/** The value at `tokens`, or undefined when there is none. */
function get(document: unknown, tokens: string[]): unknown {
  let node = document;
  for (const token of tokens) {
    if (Array.isArray(node)) node = isIndex(token) ? node[Number(token)] : undefined;
    else if (isObject(node)) node = Object.hasOwn(node, token) ? node[token] : undefined;
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** The container that holds the last token of `tokens`. */
function parentOf(document: unknown, tokens: string[], op: string, path: string): Container {
  const parent = get(document, tokens.slice(0, -1));
  if (!Array.isArray(parent) && !isObject(parent)) throw notApplied(op, path, 'path');
  return parent;
}

export function applyJsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('a JSON patch is a list of operations');
  if (operations.length > MAX_OPERATIONS)
    throw new ApiError(
      413,
      'RequestEntityTooLarge',
      `The allowed maximum operations in a JSON patch is ${MAX_OPERATIONS}, got ${operations.length}`,
    );
  let document = structuredClone(target);
  const add = (tokens: string[], value: unknown, op: string, path: string) => {
    if (!tokens.length) {
      document = value;
      return;
    }
    const parent = parentOf(document, tokens, op, path);
    const last = tokens.at(-1) as string;
    if (!Array.isArray(parent)) return setOwn(parent, last, value);
    const index = last === '-' ? parent.length : isIndex(last) ? Number(last) : -1;
    if (index < 0 || index > parent.length) throw notApplied(op, path, 'index');
    parent.splice(index, 0, value);
  };
  const remove = (tokens: string[], op: string, path: string) => {
    if (get(document, tokens) === undefined) throw notApplied(op, path, 'key');
    if (!tokens.length) {
      document = null;
      return;
    }
    const parent = parentOf(document, tokens, op, path);
    const last = tokens.at(-1) as string;
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  };
  for (const operation of operations) {
    if (!isObject(operation)) throw badRequest('a JSON patch operation is an object');
    const { op } = operation;
    if (typeof op !== 'string') throw badRequest('a JSON patch operation needs an "op"');
    const path = String(operation.path);
    const tokens = pointer(operation.path, 'path');
    const value = () => {
      if (!Object.hasOwn(operation, 'value')) throw badRequest(`the ${op} operation at ${path} has no value`);
      return structuredClone(operation.value);
    };
    switch (op) {
      case 'add':
        add(tokens, value(), op, path);
        break;
      case 'remove':
        remove(tokens, op, path);
        break;
      case 'replace': {
        // Replaces a whole subtree in place: `rollout undo` replaces /spec/template and /metadata/annotations.
        const replacement = value();
        if (get(document, tokens) === undefined) throw notApplied(op, path, 'key');
        if (!tokens.length) document = replacement;
        else {
          const parent = parentOf(document, tokens, op, path);
          const last = tokens.at(-1) as string;
          if (Array.isArray(parent)) parent[Number(last)] = replacement;
          else setOwn(parent, last, replacement);
        }
        break;
      }
      case 'move':
      case 'copy': {
        const fromPath = String(operation.from);
        const from = pointer(operation.from, 'from');
        const moved = get(document, from);
        if (moved === undefined) throw notApplied(op, fromPath, 'from path');
        if (op === 'move') {
          if (tokens.length > from.length && from.every((token, i) => tokens[i] === token))
            throw new ApiError(422, 'Invalid', `move operation does not apply: ${path} is inside ${fromPath}`);
          remove(from, op, fromPath);
        }
        add(tokens, structuredClone(moved), op, path);
        break;
      }
      case 'test':
        if (!Object.hasOwn(operation, 'value') || !deepEqual(get(document, tokens), operation.value))
          throw new ApiError(422, 'Invalid', `testing value ${path} failed`);
        break;
      default:
        throw badRequest(`unexpected kind of JSON patch operation: ${JSON.stringify(op)}`);
    }
  }
  return document;
}
