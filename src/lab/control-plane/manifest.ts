// The lab runs the kit's own manifest (k8s/server.yml): the Deployment's pod template and the
// Services, so that the lab cannot drift from what Skaffold deploys. What it cannot use is named in
// one line: the file, the field and why.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol: string;
  /** the container port's name or number */
  targetPort?: string | number;
  nodePort?: number;
}

export interface ServiceSpec {
  name: string;
  ports: ServicePort[];
}

export interface Probe {
  kind: 'grpc' | 'httpGet';
  port: number;
  path: string;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

export interface Manifest {
  file: string;
  deployment: string;
  replicas: number;
  /** The server container's env, in order (the kubelet resolves downward-API references per pod). */
  env: EnvVar[];
  /** container port name → number */
  ports: Record<string, number>;
  readiness: Probe | undefined;
  terminationGracePeriodMs: number;
  /** spec.template.spec.enableServiceLinks (Kubernetes' default: true). */
  enableServiceLinks: boolean;
  services: ServiceSpec[];
  /** the documents as written, for the API to serve */
  objects: { deployment: Doc; services: Doc[] };
}

export class ManifestError extends Error {}

export type Doc = Record<string, unknown>;
const isObject = (value: unknown): value is Doc => typeof value === 'object' && value !== null && !Array.isArray(value);

export function loadManifest(file: string, deploymentName = 'addr-server'): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ManifestError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const docs = parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0)
      throw new ManifestError(`${file}: document ${i + 1} is not valid YAML: ${doc.errors[0]?.message}`);
    return doc.toJS() as unknown;
  });
  const fail = (field: string, why: string): never => {
    throw new ManifestError(`${file}: ${field} ${why}`);
  };
  const deployment = docs.find(
    (d): d is Doc =>
      isObject(d) && d.kind === 'Deployment' && isObject(d.metadata) && d.metadata.name === deploymentName,
  );
  if (!deployment) fail(`Deployment ${deploymentName}`, 'is missing');
  const podSpec = (deployment as { spec?: { template?: { spec?: Doc } } }).spec?.template?.spec;
  if (!isObject(podSpec)) fail('spec.template.spec', 'is missing');
  const containers = (podSpec as Doc).containers;
  if (!Array.isArray(containers) || !isObject(containers[0]))
    fail('spec.template.spec.containers', 'must list the server container');
  const env = ((containers as Doc[])[0] as Doc).env ?? [];
  if (!Array.isArray(env)) fail('containers[0].env', 'must be a list');
  (env as unknown[]).forEach((entry, i) => {
    if (!isObject(entry) || typeof entry.name !== 'string') fail(`containers[0].env[${i}]`, 'must have a name');
    const { value, valueFrom } = entry as Doc;
    if (value !== undefined && typeof value !== 'string')
      fail(`containers[0].env[${i}].value`, 'must be a string (quote numbers)');
    if (valueFrom !== undefined && !(isObject(valueFrom) && isObject(valueFrom.fieldRef))) {
      fail(`containers[0].env[${i}].valueFrom`, 'is not supported by the lab (only fieldRef)');
    }
  });
  const links = (podSpec as Doc).enableServiceLinks;
  if (links !== undefined && typeof links !== 'boolean')
    fail('spec.template.spec.enableServiceLinks', 'must be true or false');
  const container = (containers as Doc[])[0] as Doc;
  const ports: Record<string, number> = {};
  ((container.ports ?? []) as unknown[]).forEach((port, i) => {
    if (!isObject(port) || !Number.isInteger(port.containerPort))
      fail(`containers[0].ports[${i}].containerPort`, 'must be a number');
    ports[
      typeof (port as Doc).name === 'string' ? ((port as Doc).name as string) : String((port as Doc).containerPort)
    ] = (port as Doc).containerPort as number;
  });
  for (const name of ['http', 'grpc'])
    if (!ports[name]) fail('containers[0].ports', `must name a port "${name}" (the lab's Service targets it)`);
  const replicas = (deployment as { spec: Doc }).spec.replicas ?? 1;
  if (!Number.isInteger(replicas) || (replicas as number) < 0) fail('spec.replicas', 'must be a whole number');
  const grace = (podSpec as Doc).terminationGracePeriodSeconds ?? 30;
  if (!Number.isInteger(grace) || (grace as number) < 0)
    fail('spec.template.spec.terminationGracePeriodSeconds', 'must be a whole number');
  const readiness = probeOf(container.readinessProbe, ports, fail);

  const services = docs
    .filter((d): d is Doc => isObject(d) && d.kind === 'Service')
    .map((service, i) => {
      const name = isObject(service.metadata) ? service.metadata.name : undefined;
      const ports = isObject(service.spec) ? service.spec.ports : undefined;
      if (typeof name !== 'string') fail(`Service ${i + 1} metadata.name`, 'is missing');
      if (!Array.isArray(ports)) fail(`Service ${name} spec.ports`, 'must be a list');
      return {
        name: name as string,
        ports: (ports as unknown[]).map((port, j) => {
          if (!isObject(port) || !Number.isInteger(port.port))
            fail(`Service ${name} spec.ports[${j}].port`, 'must be a number');
          const { name: portName, protocol } = port as Doc;
          const { targetPort, nodePort } = port as Doc;
          return {
            name: typeof portName === 'string' ? portName : undefined,
            port: (port as Doc).port as number,
            protocol: typeof protocol === 'string' ? protocol : 'TCP',
            targetPort: typeof targetPort === 'string' || typeof targetPort === 'number' ? targetPort : undefined,
            nodePort: typeof nodePort === 'number' ? nodePort : undefined,
          };
        }),
      };
    });
  return {
    file,
    deployment: deploymentName,
    replicas: replicas as number,
    env: env as EnvVar[],
    ports,
    readiness,
    terminationGracePeriodMs: (grace as number) * 1000,
    enableServiceLinks: links !== false,
    services,
    objects: {
      deployment: deployment as Doc,
      services: docs.filter((d): d is Doc => isObject(d) && d.kind === 'Service'),
    },
  };
}

function probeOf(
  probe: unknown,
  ports: Record<string, number>,
  fail: (field: string, why: string) => never,
): Probe | undefined {
  if (probe === undefined) return undefined;
  const field = 'containers[0].readinessProbe';
  if (!isObject(probe)) return fail(field, 'must be an object');
  const kind = isObject(probe.grpc)
    ? 'grpc'
    : isObject(probe.httpGet)
      ? 'httpGet'
      : fail(field, 'must be grpc or httpGet for the lab');
  const action = probe[kind] as Doc;
  const port = typeof action.port === 'string' ? ports[action.port] : action.port;
  if (!Number.isInteger(port)) fail(`${field}.${kind}.port`, 'must be a container port (number or name)');
  const seconds = (name: string, fallback: number) => {
    const value = probe[name] ?? fallback;
    if (!Number.isInteger(value) || (value as number) < 1)
      fail(`${field}.${name}`, 'must be a whole number of at least 1');
    return value as number;
  };
  return {
    kind,
    port: port as number,
    path: typeof action.path === 'string' ? action.path : '/',
    periodMs: seconds('periodSeconds', 10) * 1000,
    timeoutMs: seconds('timeoutSeconds', 1) * 1000,
    failureThreshold: seconds('failureThreshold', 3),
  };
}
