// The manifests the lab runs are the kit's own (k8s/*.yml, the files Skaffold deploys), or any the user
// names: the lab applies them to its API as kubectl would, and its controllers and kubelet do the rest.
// What the lab cannot run is an error naming the file, the object and the field; what it runs but does
// not honour (resource limits, security contexts, RBAC, …) is a note of one line each.
import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject } from './api/json.js';
import type { KubeObject } from './api/store.js';
import { KNOWN_FIELD_PATHS } from './node/kubelet-env.js';
import { IMAGES, imageName } from './node/images.js';

export class ManifestError extends Error {}

export interface Manifests {
  file: string;
  objects: KubeObject[];
  /** fields the lab accepts but does not act on, one line each */
  notes: string[];
}

type Doc = Record<string, unknown>;

/** Kinds the lab stores and serves without running anything for them. */
const STORED_ONLY: Record<string, string> = {
  Namespace: 'the lab applies everything to its own namespace',
  ServiceAccount: 'the lab enforces no RBAC: every client may do everything',
  Role: 'the lab enforces no RBAC: every client may do everything',
  RoleBinding: 'the lab enforces no RBAC: every client may do everything',
  ClusterRole: 'the lab enforces no RBAC: every client may do everything',
  ClusterRoleBinding: 'the lab enforces no RBAC: every client may do everything',
};

/** Pod template fields the lab runs without: named so that nobody takes a lab figure for them. */
const NOT_HONOURED: Record<string, string> = {
  resources: 'no cgroups: CPU and memory limits are not enforced',
  securityContext: 'processes run as the lab’s own user',
  volumeMounts: 'no volumes',
  startupProbe: 'no startup probe',
  lifecycle: 'no lifecycle hooks',
};

export function loadManifests(file: string): Manifests {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ManifestError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseManifests(text, shortPath(file));
}

/** The file as a user would name it: relative to the working directory when it lies below it. */
function shortPath(file: string): string {
  const below = relative(process.cwd(), file);
  return below && !below.startsWith('..') && !isAbsolute(below) ? below : file;
}

export function parseManifests(text: string, file: string): Manifests {
  const objects: KubeObject[] = [];
  const notes: string[] = [];
  parseAllDocuments(text).forEach((document, i) => {
    if (document.errors.length > 0) {
      throw new ManifestError(`${file}: document ${i + 1} is not valid YAML: ${document.errors[0]?.message}`);
    }
    const doc = document.toJS() as unknown;
    if (doc === null || doc === undefined) return; // an empty document (a trailing ---)
    const where = `${file}: document ${i + 1}`;
    if (!isObject(doc)) throw new ManifestError(`${where} is not a Kubernetes object`);
    const { kind, apiVersion, metadata } = doc;
    if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
      throw new ManifestError(`${where} needs apiVersion and kind`);
    }
    if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
      throw new ManifestError(`${where} (${kind}) needs metadata.name`);
    }
    const name = `${file}: ${kind} ${metadata.name}`;
    if (kind === 'Deployment') checkDeployment(doc, name, notes);
    else if (kind === 'Service') checkService(doc, name);
    else if (STORED_ONLY[kind]) notes.push(`${name}: ${STORED_ONLY[kind]}`);
    else {
      throw new ManifestError(
        `${name}: the lab runs Deployments and Services (and stores ${Object.keys(STORED_ONLY).join(', ')}), not ${kind}`,
      );
    }
    objects.push(doc as unknown as KubeObject);
  });
  return { file, objects, notes };
}

function fail(where: string, field: string, why: string): never {
  throw new ManifestError(`${where}: ${field} ${why}`);
}

/** Checks a Deployment as the lab can run it (ManifestError naming the field); what it runs without goes to `notes`. */
export function checkDeployment(doc: Doc, where: string, notes: string[]): void {
  const spec = doc.spec;
  if (!isObject(spec)) fail(where, 'spec', 'is missing');
  const selector = spec.selector;
  if (!isObject(selector) || !isObject(selector.matchLabels)) fail(where, 'spec.selector.matchLabels', 'is missing');
  const replicas = spec.replicas ?? 1;
  if (!Number.isInteger(replicas) || (replicas as number) < 0) fail(where, 'spec.replicas', 'must be a whole number');
  const template = spec.template;
  if (!isObject(template) || !isObject(template.spec)) fail(where, 'spec.template.spec', 'is missing');
  const labels = isObject(template.metadata) && isObject(template.metadata.labels) ? template.metadata.labels : {};
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (labels[key] !== value)
      fail(where, 'spec.template.metadata.labels', `must match spec.selector (${key}: ${String(value)})`);
  }
  const strategy = spec.strategy;
  if (
    strategy !== undefined &&
    (!isObject(strategy) || !['RollingUpdate', 'Recreate', undefined].includes(strategy.type as string))
  ) {
    fail(where, 'spec.strategy.type', 'must be RollingUpdate or Recreate');
  }
  const podSpec = template.spec;
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0 || !isObject(containers[0])) {
    fail(where, 'spec.template.spec.containers', 'must list a container');
  }
  if (containers.length > 1) notes.push(`${where}: the lab runs the pod's first container only`);
  const grace = podSpec.terminationGracePeriodSeconds ?? 30;
  if (!Number.isInteger(grace) || (grace as number) < 0) {
    fail(where, 'spec.template.spec.terminationGracePeriodSeconds', 'must be a whole number');
  }
  const container = containers[0];
  const field = 'spec.template.spec.containers[0]';
  if (typeof container.name !== 'string') fail(where, `${field}.name`, 'is missing');
  if (!(IMAGES as readonly string[]).includes(imageName(String(container.image ?? '')))) {
    fail(
      where,
      `${field}.image`,
      `must be one of the kit's images (${IMAGES.join(', ')}), got ${String(container.image)}`,
    );
  }
  const env = container.env ?? [];
  if (!Array.isArray(env)) fail(where, `${field}.env`, 'must be a list');
  env.forEach((entry: unknown, i) => {
    if (!isObject(entry) || typeof entry.name !== 'string') fail(where, `${field}.env[${i}]`, 'must have a name');
    if (entry.value !== undefined && typeof entry.value !== 'string')
      fail(where, `${field}.env[${i}].value`, 'must be a string (quote numbers)');
    const from = entry.valueFrom;
    if (from === undefined) return;
    if (!isObject(from) || !isObject(from.fieldRef))
      fail(where, `${field}.env[${i}].valueFrom`, 'is not supported by the lab (only fieldRef)');
    if (!KNOWN_FIELD_PATHS.includes(String(from.fieldRef.fieldPath))) {
      fail(
        where,
        `${field}.env[${i}].valueFrom.fieldRef`,
        `${String(from.fieldRef.fieldPath)} is not one the lab knows (${KNOWN_FIELD_PATHS.join(', ')})`,
      );
    }
  });
  const args = container.args ?? [];
  if (!Array.isArray(args) || args.some((arg) => typeof arg !== 'string'))
    fail(where, `${field}.args`, 'must be a list of strings');
  if (container.command !== undefined)
    notes.push(`${where}: ${field}.command is not run: the lab runs the image's program`);
  const ports = container.ports ?? [];
  if (!Array.isArray(ports)) fail(where, `${field}.ports`, 'must be a list');
  ports.forEach((port: unknown, i) => {
    if (!isObject(port) || !Number.isInteger(port.containerPort))
      fail(where, `${field}.ports[${i}].containerPort`, 'must be a number');
  });
  for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
    const value = container[probe];
    if (value === undefined) continue;
    if (!isObject(value) || !(isObject(value.grpc) || isObject(value.httpGet) || isObject(value.tcpSocket))) {
      fail(where, `${field}.${probe}`, 'must be grpc, httpGet or tcpSocket for the lab (no exec)');
    }
  }
  // One line for all of them: what the lab runs without.
  const ignored = Object.entries(NOT_HONOURED).filter(
    ([key]) => container[key] !== undefined || (key === 'securityContext' && podSpec.securityContext !== undefined),
  );
  if (ignored.length > 0)
    notes.push(`${where}: not applied in the lab: ${ignored.map(([key, why]) => `${key} (${why})`).join('; ')}`);
}

/** Checks a Service as the lab can serve it (ManifestError naming the field). */
export function checkService(doc: Doc, where: string): void {
  const spec = doc.spec;
  if (!isObject(spec)) fail(where, 'spec', 'is missing');
  if (!Array.isArray(spec.ports)) fail(where, 'spec.ports', 'must be a list');
  spec.ports.forEach((port: unknown, i) => {
    if (!isObject(port) || !Number.isInteger(port.port)) fail(where, `spec.ports[${i}].port`, 'must be a number');
    if (port.nodePort !== undefined && !Number.isInteger(port.nodePort))
      fail(where, `spec.ports[${i}].nodePort`, 'must be a number');
  });
  const type = spec.type ?? 'ClusterIP';
  if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(type as string))
    fail(where, 'spec.type', `${String(type)} is not one the lab serves`);
}

/** The Deployments among the objects. */
export const deploymentsOf = (objects: readonly KubeObject[]): KubeObject[] =>
  objects.filter((o) => o.kind === 'Deployment');
