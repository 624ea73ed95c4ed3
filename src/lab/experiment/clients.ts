// The one catalog of the clients the lab runs: the post's (client-http and client-grpc through the
// Service, client-grpc in the mesh) and every fix for gRPC balancing `lab compare` measures. Each entry
// says which program it runs, how its calls reach the pods (its route), what it should show after a
// scale-up, and what it follows to learn of the pods; then where it comes from:
//   - a strategy's client is the Deployment of its folder of k8s/strategies (the files a user deploys,
//     found by their grpc-lb.io/strategy annotation), run with that manifest's target, args and env,
//     rewritten where the lab serves what they name (node/in-cluster.ts); a lab variant adds to it;
//   - the post's clients run as its terminals did, from the host: through the Service's NodePort, the
//     lab's mesh port, the k8s:/// resolver with the lab's kubeconfig.
// `lab run`, `lab compare`, `lab up` and the dashboard all take their clients from here.
import type { BalancerName } from '../data-plane/balancer.js';

/**
 * How a client's calls reach the pods: through the Service (an L4 proxy: a pod per connection), through
 * the mesh (an L7 sidecar: a pod per call), by the client itself over the endpoints it learns (client-side
 * balancing), or through an L7 proxy at the edge.
 */
export type Route = 'service' | 'mesh' | 'client' | 'edge';

/**
 * What a client should show once the Deployment has scaled up: its calls `spread` over more than one
 * pod, `stuck` on the one pod it started on, `never-new` (never an added pod), `reaches-new` (at least
 * one added pod, once connections age out), `every-pod` (all of them, and no call lost while scaling
 * down), or `cheapest-pods` (added pods, and no call lost while scaling down, but not every pod at once:
 * Linkerd's p2c over peak EWMA gives a new pod a 30 ms estimate, decaying over 10 s, and on a tie keeps
 * the first of its two picks — linkerd2-proxy balance/src/lib.rs, pool/p2c/src/lib.rs — so a new pod
 * next to pods that answer in a millisecond may wait tens of seconds for its first call).
 */
export type Expectation = 'spread' | 'stuck' | 'never-new' | 'reaches-new' | 'every-pod' | 'cheapest-pods';

/** What runs beside the pods for the post's clients: the mesh on its own port (lab up's --mesh-port). */
export type HostPart = 'mesh';

/** Where the lab listens for the post's clients, or why a part could not run here. */
export interface HostParts {
  /** the Service's NodePorts */
  service: { http: number; grpc: number };
  mesh?: number;
  /** the kubeconfig of the lab's API */
  kubeconfig: string;
  unavailable: Partial<Record<HostPart, string>>;
}

export interface ClientCall {
  target: string;
  args?: string[];
  env?: Record<string, string>;
}

/** A strategy's client, as its manifest has it. */
export interface StrategyManifest {
  /** the grpc-lb.io/strategy annotation of its client Deployment */
  strategy: string;
  /** the folders of k8s/strategies it needs, as skaffold.yaml's profile of that name deploys them */
  folders: readonly string[];
  /** what the lab adds to the manifest's args: a variant with no folder of its own */
  args?: readonly string[];
  /** how the lab's sidecar balances for a meshed client */
  balancer?: BalancerName;
}

export interface ClientEntry {
  /** the strategy's name in compare: l4, dns+age, mesh-p2c, … */
  name: string;
  /** how the post's report tells it from the other clients of its program: client-grpc (mesh) */
  tag: string;
  program: 'client-grpc' | 'client-http';
  route: Route;
  /** one line: what the client does */
  how: string;
  expect: Expectation;
  /** the strategy whose expectations (with a bad pod, through a rollout) it is judged by, when not its own */
  judgedAs?: string;
  /** the Deployment whose pods its calls reach */
  deployment: 'addr-server' | 'addr-server-aged';
  /** it dials the pods' own addresses (client-side balancing): not where pods have none of their own */
  dialsPods?: true;
  /**
   * What it follows to learn of the pods, for timing each hop from a pod's Ready to its first call: the
   * Service whose EndpointSlices list them, the part of the data plane that hands them on (a name of
   * common/trace.ts: kube-proxy's endpoints, a DNS answer, an xDS push, nginx's reload, a watch event,
   * a mesh), and the proxy whose connections to the pods the lab sees come up, if there is one.
   */
  follows: { service: string; part: string; proxy?: string };
  /** a strategy: its client Deployment in k8s/strategies */
  manifest?: StrategyManifest;
  /** one of the post's clients: where its terminal calls from, given where the lab listens */
  host?: { parts: HostPart[]; call(parts: HostParts): ClientCall | { unavailable: string } };
}

export const NAMESPACE = 'grpc-lb';
export const HEADLESS = 'addr-server-headless';
export const HEADLESS_AGED = 'addr-server-aged-headless';
export const dnsName = (service: string) => `${service}.${NAMESPACE}.svc.cluster.local`;

/**
 * grpc-js's outlier detection (gRFC A50) over round_robin, with gRPC's defaults: every 10 s, a pod that
 * failed at least 85 % of at least 50 calls is ejected for 30 s (growing each time, up to 300 s), at most
 * 10 % of the pods at once (but always one). Failure-percentage ejection is off unless configured, so it
 * is configured here with those default values; durations are objects, as grpc-js requires.
 */
export const OUTLIER_DETECTION = JSON.stringify({
  loadBalancingConfig: [
    {
      outlier_detection: {
        interval: { seconds: 10, nanos: 0 },
        base_ejection_time: { seconds: 30, nanos: 0 },
        max_ejection_time: { seconds: 300, nanos: 0 },
        max_ejection_percent: 10,
        failure_percentage_ejection: {
          threshold: 85,
          enforcement_percentage: 100,
          minimum_hosts: 5,
          request_volume: 50,
        },
        child_policy: [{ round_robin: {} }],
      },
    },
  ],
});

export const NO_POD_ADDRESSES = 'pods have no addresses of their own on this machine, so no client can dial them';

export const CLIENTS: readonly ClientEntry[] = [
  {
    name: 'http',
    tag: 'L4',
    program: 'client-http',
    route: 'service',
    how: "client-http through the Service's NodePort (L4), a new connection per request",
    expect: 'spread',
    deployment: 'addr-server',
    follows: { service: 'addr-server', part: 'endpoints:addr-server' },
    host: { parts: [], call: (parts) => ({ target: `http://127.0.0.1:${parts.service.http}/addr` }) },
  },
  {
    name: 'l4',
    tag: 'L4',
    program: 'client-grpc',
    route: 'service',
    how: 'pick_first through the Service (L4): the problem',
    expect: 'stuck',
    deployment: 'addr-server',
    follows: { service: 'addr-server', part: 'endpoints:addr-server' },
    manifest: { strategy: 'l4', folders: ['l4'] },
    host: { parts: [], call: (parts) => ({ target: `127.0.0.1:${parts.service.grpc}` }) },
  },
  {
    name: 'l4+age',
    tag: 'L4, +age',
    program: 'client-grpc',
    route: 'service',
    how: 'the same, against servers with a max connection age',
    expect: 'reaches-new',
    deployment: 'addr-server-aged',
    follows: { service: 'addr-server-aged', part: 'endpoints:addr-server-aged' },
    manifest: { strategy: 'l4+age', folders: ['aged', 'l4-age'] },
  },
  {
    name: 'dns',
    tag: 'dns',
    program: 'client-grpc',
    route: 'client',
    how: "round_robin over the headless Service's DNS",
    expect: 'never-new',
    deployment: 'addr-server',
    dialsPods: true,
    follows: { service: HEADLESS, part: `dns:${dnsName(HEADLESS)}` },
    manifest: { strategy: 'dns', folders: ['dns'] },
  },
  {
    name: 'dns+age',
    tag: 'dns, +age',
    program: 'client-grpc',
    route: 'client',
    how: 'the same, against servers with a max connection age',
    expect: 'reaches-new',
    deployment: 'addr-server-aged',
    dialsPods: true,
    follows: { service: HEADLESS_AGED, part: `dns:${dnsName(HEADLESS_AGED)}` },
    manifest: { strategy: 'dns+age', folders: ['aged', 'dns-age'] },
  },
  {
    name: 'k8s',
    tag: 'k8s',
    program: 'client-grpc',
    route: 'client',
    how: 'round_robin over the k8s:/// resolver (watches EndpointSlices)',
    expect: 'every-pod',
    deployment: 'addr-server',
    dialsPods: true,
    follows: { service: 'addr-server', part: 'watch:addr-server' },
    manifest: { strategy: 'k8s', folders: ['k8s'] },
    host: {
      parts: [],
      call: (parts) => ({ target: `k8s:///addr-server.${NAMESPACE}:grpc`, env: { KUBECONFIG: parts.kubeconfig } }),
    },
  },
  {
    name: 'k8s+outlier',
    tag: 'k8s, outlier detection',
    program: 'client-grpc',
    route: 'client',
    how: "the same, wrapped in grpc-js's outlier_detection: a pod failing most calls is ejected",
    expect: 'every-pod',
    deployment: 'addr-server',
    dialsPods: true,
    follows: { service: 'addr-server', part: 'watch:addr-server' },
    manifest: { strategy: 'k8s', folders: ['k8s'], args: ['--service-config', OUTLIER_DETECTION] },
  },
  {
    name: 'xds',
    tag: 'xds',
    program: 'client-grpc',
    route: 'client',
    how: 'proxyless gRPC: xds:/// fed by an ADS control plane',
    expect: 'every-pod',
    deployment: 'addr-server',
    dialsPods: true,
    follows: { service: 'addr-server', part: 'xds:addr-server' },
    manifest: { strategy: 'xds', folders: ['xds'] },
  },
  {
    name: 'edge',
    tag: 'edge',
    program: 'client-grpc',
    route: 'edge',
    how: 'an L7 proxy at the edge (nginx in the lab): grpc_pass to the pod IPs, reloaded on changes',
    expect: 'every-pod',
    deployment: 'addr-server',
    follows: { service: 'addr-server', part: 'edge' },
    manifest: { strategy: 'edge', folders: ['edge'] },
  },
  {
    name: 'mesh',
    tag: 'mesh',
    program: 'client-grpc',
    route: 'mesh',
    how: "the lab's sidecar (L7), round-robin per call",
    expect: 'every-pod',
    deployment: 'addr-server',
    follows: { service: 'addr-server', part: 'mesh:mesh', proxy: 'mesh:mesh' },
    manifest: { strategy: 'mesh', folders: ['mesh'], balancer: 'round-robin' },
    host: {
      parts: ['mesh'],
      call: (parts) =>
        parts.unavailable.mesh ? { unavailable: parts.unavailable.mesh } : { target: `127.0.0.1:${parts.mesh}` },
    },
  },
  {
    name: 'mesh-p2c',
    tag: 'mesh, p2c',
    program: 'client-grpc',
    route: 'mesh',
    how: "the lab's sidecar, Linkerd's power of two choices over peak EWMA",
    expect: 'cheapest-pods',
    deployment: 'addr-server',
    follows: { service: 'addr-server', part: 'mesh:mesh-p2c', proxy: 'mesh:mesh-p2c' },
    manifest: { strategy: 'mesh', folders: ['mesh'], balancer: 'p2c-ewma' },
  },
  {
    name: 'mesh-accrual',
    tag: 'mesh, p2c + accrual',
    program: 'client-grpc',
    route: 'mesh',
    how: "the lab's sidecar, Linkerd's p2c, over a Service with failure accrual on (balancer.linkerd.io/failure-accrual: consecutive)",
    expect: 'cheapest-pods',
    deployment: 'addr-server',
    follows: { service: 'addr-server-accrual', part: 'mesh:mesh-accrual', proxy: 'mesh:mesh-accrual' },
    manifest: { strategy: 'mesh-accrual', folders: ['mesh-accrual'], balancer: 'p2c-ewma' },
  },
];

/** The post's clients, in the order its report shows them. */
export const POST_CLIENTS = ['http', 'l4', 'mesh', 'k8s'] as const;
/** Every fix for gRPC balancing: compare's strategies. */
export const STRATEGY_NAMES = [
  'l4',
  'l4+age',
  'dns',
  'dns+age',
  'k8s',
  'k8s+outlier',
  'xds',
  'edge',
  'mesh',
  'mesh-p2c',
  'mesh-accrual',
] as const;

/** The strategies that have a client Deployment of their own (no lab variant): what a cluster can run. */
export const CLUSTER_STRATEGIES: readonly string[] = STRATEGY_NAMES.filter(
  (name) => clientEntry(name).manifest?.strategy === name,
);

export function clientEntry(name: string): ClientEntry {
  const entry = CLIENTS.find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`no client ${name} in the catalog`);
  return entry;
}

/** "client-grpc (mesh)": how tables and verdicts name a client. */
export const labelOf = (entry: Pick<ClientEntry, 'program' | 'tag'>): string => `${entry.program} (${entry.tag})`;
