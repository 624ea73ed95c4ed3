// What a client pod's manifest reaches by its in-cluster name, rewritten to where the lab serves it. On a
// cluster a client in a pod calls `addr-server:30051` through the cluster DNS and kube-proxy's rules for the
// ClusterIP, asks CoreDNS for a headless Service's pods, reads the API with its service account's token, and
// — meshed — has its outbound connections taken by the Linkerd proxy's iptables rules. The lab's processes
// have none of that: no resolv.conf pointing at the lab's DNS, no ClusterIP routing, no mounted token, no
// iptables. So the lab rewrites the few fields that name such things, and says each rewrite in one line
// naming the field and what the lab does instead. The kubelet applies it to the client pods it runs (`lab
// up --strategies`), `lab compare` to the clients it runs as processes of their own: the same rewrites.
//
//   TARGET SERVICE:PORT (or SERVICE.NAMESPACE[.svc[.DOMAIN]]:PORT, dns:///…)  → 127.0.0.1:P, where the lab
//       serves that Service port (kube-proxy's listener for it, or what stands in for the Service);
//   TARGET dns:///HEADLESS:PORT  → dns://127.0.0.1:DNS/HEADLESS.NAMESPACE.svc.DOMAIN:PORT, with
//       GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true: grpc-js asks the lab's cluster DNS itself (c-ares);
//   TARGET k8s:///…  → KUBECONFIG, the lab's kubeconfig, in place of the service account's token;
//   GRPC_XDS_BOOTSTRAP_CONFIG's xds_servers[].server_uri SERVICE:PORT  → 127.0.0.1:P, as any target;
//   a pod annotated linkerd.io/inject: enabled  → the lab's sidecar over the Service its target names (with
//       that Service's annotations), and the target points at it.
import { isIP } from 'node:net';

export interface Address {
  host: string;
  port: number;
}

/** A Service port where the lab serves it, and what serves it there (for the line that says so). */
export interface Served {
  address: Address;
  by: string;
}

/** Where the lab serves what pods reach by name: its side of the rewrites. */
export interface InCluster {
  namespace: string;
  /** the cluster domain: cluster.local */
  domain: string;
  /** a Service of the namespace (or a stand-in of that name): whether it is headless; undefined: none */
  service(name: string): { headless: boolean } | undefined;
  /** where the lab serves a Service port (by its number) for its processes */
  port(service: string, port: number): Served | undefined;
  /** the cluster DNS */
  dns: Address;
  /** a kubeconfig for the lab's API, whose context's namespace is `namespace` */
  kubeconfig: string;
  /** the meshed pod's sidecar over `service`: where it listens, and what it is */
  sidecar(service: string): Promise<Served>;
}

export type ClientImage = 'addr-client-grpc' | 'addr-client-http';

export interface PodCall {
  image: ClientImage;
  /** the container's args, as the kubelet passes them ($(VAR) expanded) */
  args: readonly string[];
  /** the container's environment */
  env: Readonly<Record<string, string>>;
  /** the pod template's annotations */
  annotations: Readonly<Record<string, string>>;
}

export type Translated =
  { args: string[]; env: Record<string, string>; lines: string[] } | { unavailable: string; lines: string[] };

/** The annotation that asks Linkerd's injector for a proxy in the pod (https://linkerd.io/docs/features/proxy-injection/). */
export const LINKERD_INJECT = 'linkerd.io/inject';

/** Flags of the clients that take no value: the positional target is the first argument that is neither a flag nor a flag's value. */
const BOOLEAN_FLAGS = new Set(['--help', '-h', '--keepalive', '--exit-on-stdin-close', '--version']);

/** Where the target (client-grpc) or URL (client-http) is among the args: -1 when there is none. */
export function targetIndex(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return i + 1 < args.length ? i + 1 : -1;
    if (!arg.startsWith('-')) return i;
    if (!arg.includes('=') && !BOOLEAN_FLAGS.has(arg)) i += 1; // its value
  }
  return -1;
}

/** SERVICE, SERVICE.NAMESPACE, SERVICE.NAMESPACE.svc, SERVICE.NAMESPACE.svc.DOMAIN → SERVICE, when it is one of `namespace`'s names. */
export function serviceOfHost(host: string, namespace: string, domain: string): string | undefined {
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  const [service, ns, svc, ...rest] = labels;
  if (!service || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(service)) return undefined;
  if (ns === undefined) return service;
  if (ns !== namespace) return undefined;
  if (svc === undefined) return service;
  if (svc !== 'svc') return undefined;
  return rest.length === 0 || rest.join('.') === domain ? service : undefined;
}

/** host:port → its parts (the port undefined when absent); [v6]:port too. */
function splitHostPort(text: string): { host: string; port: number | undefined } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1] as string, port: v6[2] === undefined ? undefined : Number(v6[2]) };
  const colon = text.lastIndexOf(':');
  if (colon === -1 || text.indexOf(':') !== colon) return { host: text, port: undefined };
  const port = text.slice(colon + 1);
  return /^\d+$/.test(port) ? { host: text.slice(0, colon), port: Number(port) } : { host: text, port: undefined };
}

const NO_ROUTING = "the lab's processes have no cluster DNS and no route to a ClusterIP";

const hostPort = (address: Address) => `${address.host}:${address.port}`;

/** A name the lab must answer for: one of its namespace's Service names, not an address or localhost. */
function namedService(host: string, lab: InCluster): string | undefined {
  if (isIP(host) || host === 'localhost') return undefined;
  return serviceOfHost(host, lab.namespace, lab.domain);
}

/**
 * The pod's call with every in-cluster name rewritten to where the lab serves it, and a line per rewrite;
 * or why the lab cannot run it (a name it has no Service for).
 */
export async function translateCall(call: PodCall, lab: InCluster): Promise<Translated> {
  const args = [...call.args];
  const env = { ...call.env };
  const lines: string[] = [];
  const index = targetIndex(args);
  const field = `args[${index}]`;
  const meshed = call.annotations[LINKERD_INJECT] === 'enabled';
  const unavailable = (why: string): Translated => ({ unavailable: why, lines });

  // The xDS bootstrap names its control plane as a target does.
  const bootstrap = env.GRPC_XDS_BOOTSTRAP_CONFIG;
  if (env.GRPC_XDS_BOOTSTRAP !== undefined && bootstrap === undefined)
    return unavailable(
      'env GRPC_XDS_BOOTSTRAP names a file, and the lab mounts no volumes: give GRPC_XDS_BOOTSTRAP_CONFIG',
    );
  if (bootstrap !== undefined) {
    const rewritten = rewriteBootstrap(bootstrap, lab, lines);
    if ('unavailable' in rewritten) return unavailable(rewritten.unavailable);
    env.GRPC_XDS_BOOTSTRAP_CONFIG = rewritten.text;
  }
  if (index === -1) return unavailable('its args name no target');
  const target = args[index] as string;

  if (call.image === 'addr-client-http') {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return { args, env, lines };
    }
    const service = namedService(url.hostname, lab);
    if (!service) return { args, env, lines };
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    const served = lab.port(service, port);
    if (!served) return unavailable(`${field} ${target}: ${missing(lab, service, port)}`);
    url.hostname = served.address.host;
    url.port = String(served.address.port);
    args[index] = url.toString();
    lines.push(`${field} ${target} → ${args[index]}: ${NO_ROUTING}; ${served.by} listens there`);
    return { args, env, lines };
  }

  // grpc-js's target syntax (https://github.com/grpc/grpc/blob/master/doc/naming.md): SCHEME:[//AUTHORITY/]PATH,
  // and a target with no scheme it knows is a dns: name.
  const scheme = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(target);
  const name = scheme?.[1]?.toLowerCase();
  if (name === 'k8s') {
    env.KUBECONFIG = lab.kubeconfig;
    lines.push(
      `env KUBECONFIG=${lab.kubeconfig}: the lab mounts no service-account token, so ${target} watches the lab's API with its kubeconfig (namespace ${lab.namespace}; the lab enforces no RBAC)`,
    );
    return { args, env, lines };
  }
  if (name !== undefined && name !== 'dns' && !/^\d+$/.test(scheme?.[2] ?? '')) return { args, env, lines }; // ipv4:, unix:, xds:, …
  let rest = name === 'dns' ? (scheme?.[2] ?? '') : target;
  if (name === 'dns') {
    const authority = /^\/\/([^/]*)\/(.*)$/.exec(rest);
    if (authority && authority[1] !== '') return { args, env, lines }; // a DNS server of its own: left as it is
    rest = authority ? (authority[2] ?? '') : rest;
  }
  const { host, port = 443 } = splitHostPort(rest);
  const service = namedService(host, lab);
  if (!service) return { args, env, lines };
  const known = lab.service(service);
  if (!known) return unavailable(`${field} ${target}: ${missing(lab, service, port)}`);
  if (known.headless) {
    if (meshed)
      lines.push(
        `${LINKERD_INJECT}: enabled: no sidecar, as Linkerd does not balance a headless Service (${service}): the client resolves it itself`,
      );
    const fqdn = `${service}.${lab.namespace}.svc.${lab.domain}`;
    args[index] = `dns://${hostPort(lab.dns)}/${fqdn}:${port}`;
    env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER = 'true';
    lines.push(
      `${field} ${target} → ${args[index]} with GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true: the lab's processes have no resolv.conf that points at its cluster DNS, so grpc-js asks it directly (c-ares) for the ready pods of ${service}`,
    );
    return { args, env, lines };
  }
  if (meshed) {
    const sidecar = await lab.sidecar(service);
    args[index] = hostPort(sidecar.address);
    lines.push(
      `${LINKERD_INJECT}: enabled → ${sidecar.by}; ${field} ${target} → ${args[index]}: Linkerd's proxy takes the pod's outbound connections by iptables rules, the lab points the client at its sidecar`,
    );
    return { args, env, lines };
  }
  const served = lab.port(service, port);
  if (!served) return unavailable(`${field} ${target}: ${missing(lab, service, port)}`);
  args[index] = hostPort(served.address);
  lines.push(`${field} ${target} → ${args[index]}: ${NO_ROUTING}; ${served.by} listens there`);
  return { args, env, lines };
}

function missing(lab: InCluster, service: string, port: number): string {
  return lab.service(service)
    ? `the Service ${service} has no port ${port}`
    : `the lab runs no Service ${service} in namespace ${lab.namespace}`;
}

/** GRPC_XDS_BOOTSTRAP_CONFIG with each xds_servers[].server_uri that names a Service rewritten. */
function rewriteBootstrap(text: string, lab: InCluster, lines: string[]): { text: string } | { unavailable: string } {
  let bootstrap: { xds_servers?: Array<{ server_uri?: unknown }> };
  try {
    bootstrap = JSON.parse(text) as typeof bootstrap;
  } catch {
    return { unavailable: 'env GRPC_XDS_BOOTSTRAP_CONFIG is not JSON' };
  }
  let changed = false;
  for (const [i, server] of (bootstrap.xds_servers ?? []).entries()) {
    if (typeof server.server_uri !== 'string') continue;
    const uri = server.server_uri;
    const { host, port = 443 } = splitHostPort(uri.replace(/^dns:(\/\/\/)?/, ''));
    const service = namedService(host, lab);
    if (!service) continue;
    const served = lab.port(service, port);
    const field = `env GRPC_XDS_BOOTSTRAP_CONFIG: xds_servers[${i}].server_uri`;
    if (!served) return { unavailable: `${field} ${uri}: ${missing(lab, service, port)}` };
    server.server_uri = hostPort(served.address);
    changed = true;
    lines.push(`${field} ${uri} → ${server.server_uri}: ${served.by}`);
  }
  return { text: changed ? JSON.stringify(bootstrap) : text };
}
