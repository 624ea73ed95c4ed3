// The environment a kubelet gives a container: the container's `env`, with downward-API references
// resolved for this pod and $(VAR) references expanded, plus a "service link" set of variables for every
// Service in the pod's namespace (unless the pod spec says enableServiceLinks: false), plus the API
// server's own KUBERNETES_SERVICE_* (always) — pkg/kubelet/kubelet_pods.go makeEnvironmentVariables.
// Programs must start under all of it: a Service named addr-server yields ADDR_SERVER_SERVICE_HOST,
// ADDR_SERVER_PORT, … beside our ADDR_SERVER_* options.
import type { Container, EnvVar } from '../controllers/objects.js';

export interface PodFacts {
  name: string;
  namespace: string;
  ip: string;
  nodeName: string;
  hostIp: string;
  serviceAccountName: string;
}

export interface ServicePortSpec {
  name?: string;
  port: number;
  protocol?: string;
}

export interface LinkedService {
  name: string;
  clusterIp: string;
  ports: ServicePortSpec[];
}

export function kubeletEnv(
  container: Container,
  pod: PodFacts,
  services: LinkedService[],
  apiServer: LinkedService,
  enableServiceLinks = true,
): Record<string, string> {
  const env: Record<string, string> = { HOSTNAME: pod.name };
  if (enableServiceLinks) for (const service of services) Object.assign(env, serviceLinks(service));
  Object.assign(env, serviceLinks(apiServer));
  for (const variable of container.env ?? []) env[variable.name] = resolve(variable, pod, env);
  return env;
}

const FIELDS: Record<string, (pod: PodFacts) => string> = {
  'metadata.name': (pod) => pod.name,
  'metadata.namespace': (pod) => pod.namespace,
  'status.podIP': (pod) => pod.ip,
  'status.podIPs': (pod) => pod.ip,
  'status.hostIP': (pod) => pod.hostIp,
  'status.hostIPs': (pod) => pod.hostIp,
  'spec.nodeName': (pod) => pod.nodeName,
  'spec.serviceAccountName': (pod) => pod.serviceAccountName,
};

export const KNOWN_FIELD_PATHS = Object.keys(FIELDS);

function resolve(variable: EnvVar, pod: PodFacts, env: Record<string, string>): string {
  const path = variable.valueFrom?.fieldRef?.fieldPath;
  if (path !== undefined) {
    const field = FIELDS[path];
    if (!field)
      throw new Error(
        `env ${variable.name}: fieldRef ${path} is not one the lab knows (${KNOWN_FIELD_PATHS.join(', ')})`,
      );
    return field(pod);
  }
  return expand(variable.value ?? '', env);
}

/** $(VAR) expands to a variable defined earlier, as the kubelet does for env, command and args; $$ escapes. */
export function expand(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? '$' : (env[name] ?? match),
  );
}

/** Docker-links-style variables, as pkg/kubelet/envvars builds them. */
export function serviceLinks(service: LinkedService): Record<string, string> {
  const prefix = service.name.toUpperCase().replaceAll('-', '_');
  const [first] = service.ports;
  if (!first || service.clusterIp === 'None' || service.clusterIp === '') return {};
  const env: Record<string, string> = {
    [`${prefix}_SERVICE_HOST`]: service.clusterIp,
    [`${prefix}_SERVICE_PORT`]: String(first.port),
  };
  for (const port of service.ports) {
    if (port.name) env[`${prefix}_SERVICE_PORT_${port.name.toUpperCase().replaceAll('-', '_')}`] = String(port.port);
  }
  const protocol = (first.protocol ?? 'TCP').toLowerCase();
  env[`${prefix}_PORT`] = `${protocol}://${service.clusterIp}:${first.port}`;
  for (const port of service.ports) {
    const p = (port.protocol ?? 'TCP').toLowerCase();
    const base = `${prefix}_PORT_${port.port}_${(port.protocol ?? 'TCP').toUpperCase()}`;
    env[base] = `${p}://${service.clusterIp}:${port.port}`;
    env[`${base}_PROTO`] = p;
    env[`${base}_PORT`] = String(port.port);
    env[`${base}_ADDR`] = service.clusterIp;
  }
  return env;
}
