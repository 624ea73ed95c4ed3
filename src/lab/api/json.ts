// JSON as the API takes it from a client. Bodies and patches are plain data, checked once on the way in:
// - no deeper than MAX_DEPTH, so that the recursive walks after it (structuredClone, JSON.stringify, the
//   patchers) cannot run out of stack, which they do at a few thousand levels on Node's default stack;
// - without the keys that reach an object's prototype when used as a property name in JavaScript
//   (`o.__proto__`, `o.constructor.prototype`): a patch that walks or writes through one writes onto
//   Object.prototype, which every object of the process shares.
import { badRequest } from './status.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Property names that lead from a plain object to Object.prototype. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Far deeper than any Kubernetes object (a pod template's affinity terms are about 15 levels down), far
 * shallower than where recursion fails. Go's encoding/json, which the API server decodes with, stops at
 * 10,000 ("exceeded max depth"); the lab's walks are recursive JavaScript, so it stops sooner.
 */
export const MAX_DEPTH = 100;

export const prototypeKeyError = (key: string, where: string) =>
  badRequest(`${where}: the key ${JSON.stringify(key)} is not accepted: it names a JavaScript object's prototype`);

/**
 * Throws a 400 ApiError when `value` nests deeper than MAX_DEPTH or holds a key of PROTOTYPE_KEYS, naming where.
 * Iterative, so that it is safe on any input JSON.parse returns.
 */
export function checkJson(value: unknown, what = 'the request body'): void {
  const stack: Array<{ node: unknown; depth: number; path: string }> = [{ node: value, depth: 0, path: '' }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { node, depth, path } = item;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= MAX_DEPTH) throw badRequest(`${what} is nested too deeply: more than ${MAX_DEPTH} levels`);
    if (Array.isArray(node)) {
      node.forEach((child, index) => stack.push({ node: child, depth: depth + 1, path: `${path}[${index}]` }));
      continue;
    }
    for (const key of Object.keys(node)) {
      const at = path ? `${path}.${key}` : key;
      if (PROTOTYPE_KEYS.has(key)) throw prototypeKeyError(key, `${what} at ${at}`);
      stack.push({ node: (node as Record<string, unknown>)[key], depth: depth + 1, path: at });
    }
  }
}

/** Parses a client's JSON text: a 400 ApiError when it is not JSON, nested too deeply, or names a prototype. */
export function parseJson(text: string, what = 'the request body'): Json {
  if (!text.trim()) throw badRequest(`${what} is empty`);
  let value: Json;
  try {
    // V8's JSON.parse is iterative: it copes with any nesting; checkJson bounds what follows.
    value = JSON.parse(text) as Json;
  } catch (error) {
    throw badRequest(`${what} is not valid JSON: ${(error as Error).message}`);
  }
  checkJson(value, what);
  return value;
}

/** Sets an own, enumerable property, whatever its name: `__proto__` included, it never changes a prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Structural equality of JSON values; object keys in any order (Go's reflect.DeepEqual on decoded JSON). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]))
    );
  }
  return false;
}
