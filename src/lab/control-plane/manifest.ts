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
}

export interface ServiceSpec {
  name: string;
  ports: ServicePort[];
}

export interface Manifest {
  file: string;
  deployment: string;
  /** The server container's env, in order (the kubelet resolves downward-API references per pod). */
  env: EnvVar[];
  /** spec.template.spec.enableServiceLinks (Kubernetes' default: true). */
  enableServiceLinks: boolean;
  services: ServiceSpec[];
}

export class ManifestError extends Error {}

type Doc = Record<string, unknown>;
const isObject = (value: unknown): value is Doc => typeof value === 'object' && value !== null && !Array.isArray(value);

export function loadManifest(file: string, deploymentName = 'addr-server'): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ManifestError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const docs = parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new ManifestError(`${file}: document ${i + 1} is not valid YAML: ${doc.errors[0]?.message}`);
    return doc.toJS() as unknown;
  });
  const fail = (field: string, why: string): never => {
    throw new ManifestError(`${file}: ${field} ${why}`);
  };
  const deployment = docs.find((d): d is Doc => isObject(d) && d.kind === 'Deployment' && isObject(d.metadata) && d.metadata.name === deploymentName);
  if (!deployment) fail(`Deployment ${deploymentName}`, 'is missing');
  const podSpec = (deployment as { spec?: { template?: { spec?: Doc } } }).spec?.template?.spec;
  if (!isObject(podSpec)) fail('spec.template.spec', 'is missing');
  const containers = (podSpec as Doc).containers;
  if (!Array.isArray(containers) || !isObject(containers[0])) fail('spec.template.spec.containers', 'must list the server container');
  const env = ((containers as Doc[])[0] as Doc).env ?? [];
  if (!Array.isArray(env)) fail('containers[0].env', 'must be a list');
  (env as unknown[]).forEach((entry, i) => {
    if (!isObject(entry) || typeof entry.name !== 'string') fail(`containers[0].env[${i}]`, 'must have a name');
    const { value, valueFrom } = entry as Doc;
    if (value !== undefined && typeof value !== 'string') fail(`containers[0].env[${i}].value`, 'must be a string (quote numbers)');
    if (valueFrom !== undefined && !(isObject(valueFrom) && isObject(valueFrom.fieldRef))) {
      fail(`containers[0].env[${i}].valueFrom`, 'is not supported by the lab (only fieldRef)');
    }
  });
  const links = (podSpec as Doc).enableServiceLinks;
  if (links !== undefined && typeof links !== 'boolean') fail('spec.template.spec.enableServiceLinks', 'must be true or false');

  const services = docs.filter((d): d is Doc => isObject(d) && d.kind === 'Service').map((service, i) => {
    const name = isObject(service.metadata) ? service.metadata.name : undefined;
    const ports = isObject(service.spec) ? service.spec.ports : undefined;
    if (typeof name !== 'string') fail(`Service ${i + 1} metadata.name`, 'is missing');
    if (!Array.isArray(ports)) fail(`Service ${name} spec.ports`, 'must be a list');
    return {
      name: name as string,
      ports: (ports as unknown[]).map((port, j) => {
        if (!isObject(port) || !Number.isInteger(port.port)) fail(`Service ${name} spec.ports[${j}].port`, 'must be a number');
        const { name: portName, protocol } = port as Doc;
        return { name: typeof portName === 'string' ? portName : undefined, port: (port as Doc).port as number, protocol: typeof protocol === 'string' ? protocol : 'TCP' };
      }),
    };
  });
  return { file, deployment: deploymentName, env: env as EnvVar[], enableServiceLinks: links !== false, services };
}
