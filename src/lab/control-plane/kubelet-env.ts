// The environment a kubelet gives a container: the container's `env` from the manifest, with
// downward-API references resolved for this pod, plus a "service link" set of variables for every
// Service in the namespace (unless the pod spec says enableServiceLinks: false), plus the API
// server's own KUBERNETES_SERVICE_* (always). Programs must start under all of it: a Service named
// addr-server yields ADDR_SERVER_SERVICE_HOST, ADDR_SERVER_PORT, … beside our ADDR_SERVER_* options.
import type { EnvVar, Manifest, ServiceSpec } from './manifest.js';

export interface PodFacts {
  name: string;
  namespace: string;
  ip: string;
  nodeName: string;
  hostIp: string;
}

export interface ClusterService extends ServiceSpec {
  clusterIp: string;
}

export function kubeletEnv(
  manifest: Manifest,
  pod: PodFacts,
  services: ClusterService[],
  apiServer: ClusterService,
): Record<string, string> {
  const env: Record<string, string> = { HOSTNAME: pod.name };
  Object.assign(env, serviceLinks(apiServer));
  if (manifest.enableServiceLinks) for (const service of services) Object.assign(env, serviceLinks(service));
  for (const variable of manifest.env) env[variable.name] = resolve(variable, pod, env);
  return env;
}

const FIELDS: Record<string, (pod: PodFacts) => string> = {
  'metadata.name': (pod) => pod.name,
  'metadata.namespace': (pod) => pod.namespace,
  'status.podIP': (pod) => pod.ip,
  'status.podIPs': (pod) => pod.ip,
  'status.hostIP': (pod) => pod.hostIp,
  'spec.nodeName': (pod) => pod.nodeName,
  'spec.serviceAccountName': () => 'default',
};

function resolve(variable: EnvVar, pod: PodFacts, env: Record<string, string>): string {
  const path = variable.valueFrom?.fieldRef?.fieldPath;
  if (path !== undefined) {
    const field = FIELDS[path];
    if (!field)
      throw new Error(
        `env ${variable.name}: fieldRef ${path} is not one the lab knows (${Object.keys(FIELDS).join(', ')})`,
      );
    return field(pod);
  }
  // $(VAR) expands to an earlier variable, as the kubelet does; $$ escapes.
  return (variable.value ?? '').replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? '$' : (env[name] ?? match),
  );
}

/** Docker-links-style variables, as pkg/kubelet/envvars builds them. */
export function serviceLinks(service: ClusterService): Record<string, string> {
  const prefix = service.name.toUpperCase().replaceAll('-', '_');
  const [first] = service.ports;
  if (!first) return {};
  const env: Record<string, string> = {
    [`${prefix}_SERVICE_HOST`]: service.clusterIp,
    [`${prefix}_SERVICE_PORT`]: String(first.port),
  };
  for (const port of service.ports) {
    if (port.name) env[`${prefix}_SERVICE_PORT_${port.name.toUpperCase().replaceAll('-', '_')}`] = String(port.port);
  }
  const protocol = first.protocol.toLowerCase();
  env[`${prefix}_PORT`] = `${protocol}://${service.clusterIp}:${first.port}`;
  for (const port of service.ports) {
    const p = port.protocol.toLowerCase();
    const base = `${prefix}_PORT_${port.port}_${port.protocol.toUpperCase()}`;
    env[base] = `${p}://${service.clusterIp}:${port.port}`;
    env[`${base}_PROTO`] = p;
    env[`${base}_PORT`] = String(port.port);
    env[`${base}_ADDR`] = service.clusterIp;
  }
  return env;
}
