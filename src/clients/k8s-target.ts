// k8s:///SERVICE[.NAMESPACE]:PORT — the target the EndpointSlice resolver understands. Parsed apart from
// the resolver so that client-grpc can reject a bad target (exit 2) without loading the Kubernetes client.

export interface K8sTarget {
  service: string;
  /** undefined: the kubeconfig context's namespace (in a pod: its own), else "default". */
  namespace: string | undefined;
  /** A number is the port the pods serve on (the endpoint port); a name is the Service port's name. */
  port: number | string;
}

const serviceName = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/; // DNS-1035 label, as Kubernetes requires of Services
const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/; // DNS-1123 label
const portName = /^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/; // IANA_SVC_NAME, as ports are named

export const k8sTargetForm = 'k8s:///SERVICE[.NAMESPACE]:PORT (PORT: a number or the name of a Service port)';

/** Parses a whole target string ("k8s:///addr-server.grpc-lb:grpc"); throws an Error that says what is wrong. */
export function parseK8sTarget(target: string): K8sTarget {
  const match = /^k8s:\/\/([^/]*)\/(.*)$/.exec(target);
  if (!match) throw new Error(`${target} is not of the form ${k8sTargetForm}`);
  if (match[1] !== '') {
    throw new Error(`${target}: an authority (k8s://HOST/...) is not supported; the kubeconfig says which API to ask`);
  }
  return parseK8sPath(match[2] ?? '');
}

/** Parses what grpc-js calls the path of the target: "SERVICE[.NAMESPACE]:PORT". */
export function parseK8sPath(path: string): K8sTarget {
  const colon = path.lastIndexOf(':');
  if (path === '') throw new Error(`the target names no Service: use ${k8sTargetForm}`);
  if (colon === -1) throw new Error(`"${path}" has no port: use ${k8sTargetForm}`);
  const host = path.slice(0, colon);
  const portText = path.slice(colon + 1);
  // service.namespace, or a cluster DNS name: service.namespace.svc[.cluster.local]
  const [service = '', namespace, svc, ...domain] = host.split('.');
  if (!serviceName.test(service))
    throw new Error(`"${service}" is not a Service name (lowercase letters, digits and "-", at most 63)`);
  if (namespace !== undefined && !namespaceName.test(namespace))
    throw new Error(`"${namespace}" is not a namespace name`);
  if ((svc !== undefined && svc !== 'svc') || domain.some((label) => label === '')) {
    throw new Error(`"${host}" is neither SERVICE.NAMESPACE nor SERVICE.NAMESPACE.svc.DOMAIN`);
  }
  let port: number | string;
  if (/^\d+$/.test(portText)) {
    port = Number(portText);
    if (port < 1 || port > 65535) throw new Error(`port ${portText} is out of range (1-65535)`);
  } else if (portName.test(portText)) {
    port = portText;
  } else {
    throw new Error(`"${portText}" is neither a port number nor a port name`);
  }
  return { service, namespace, port };
}
