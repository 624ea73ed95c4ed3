// Names the controllers generate, as Kubernetes generates them: the pod-template-hash of a ReplicaSet
// (FNV-32a of the pod template and the Deployment's collisionCount, written in the safe alphabet:
// k8s.io/kubernetes pkg/controller/controller_utils.go ComputeHash) and the random suffixes of
// generateName (k8s.io/apimachinery pkg/util/rand SafeEncodeString, String(5)). The hash of the same
// template is stable, but not the same digits as a real cluster's: Kubernetes hashes Go's printout of
// its structs, the lab the template's JSON with sorted keys.
import { randomBytes } from 'node:crypto';
import { canonical } from './objects.js';

// No vowels, no look-alikes: generated names never spell words.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const encode = (bytes: Iterable<number>) => [...bytes].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');

/** FNV-1a, 32 bits. */
function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The pod-template-hash label value of a template: stable for the same template and collision count. */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const hash = fnv32a(canonical(template) + (collisionCount > 0 ? String(collisionCount) : ''));
  return encode(Buffer.from(String(hash), 'utf8'));
}

/** The random suffix of a generated name: 5 characters of the safe alphabet. */
export const nameSuffix = (): string => encode(randomBytes(5));
