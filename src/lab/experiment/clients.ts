// The one catalog of the clients the lab runs: the post's (client-http and client-grpc through the
// Service, client-grpc in the mesh) and every fix for gRPC balancing `lab compare` measures. Each entry
// says which program it runs, how its calls reach the pods (its route), what it needs running beside
// the pods (its parts), where it calls once those run, and what it should show after a scale-up. `lab
// run`, `lab compare`, `lab up` and the dashboard all take their clients from here.

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

/** What runs beside the pods for a client: each is started only when a chosen client needs it. */
export type Part =
  'aged' | 'dns' | 'dns-aged' | 'xds' | 'edge' | 'mesh' | 'mesh-p2c' | 'mesh-p2c-accrual' | 'kubeconfig';

/** Where the running parts listen, or why one could not run here. */
export interface RunningParts {
  /** the Service's NodePorts (the post's Service, and the +age Deployment's) */
  service: { http: number; grpc: number };
  aged?: { grpc: number };
  dns?: number;
  dnsAged?: number;
  xds?: { port: number; bootstrap: string };
  edge?: number;
  mesh?: number;
  meshP2c?: number;
  meshP2cAccrual?: number;
  kubeconfig?: string;
  /** why a part is not running (nginx missing, pods without addresses of their own, …) */
  unavailable: Partial<Record<Part, string>>;
  /** false where pods have no addresses of their own: no client can dial a pod IP */
  ownPodAddresses: boolean;
}

export interface ClientCall {
  target: string;
  args?: string[];
  env?: Record<string, string>;
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
  /** the Deployment whose pods its calls reach */
  deployment: 'addr-server' | 'addr-server-aged';
  parts: Part[];
  /**
   * What it follows to learn of the pods, for timing each hop from a pod's Ready to its first call: the
   * Service whose EndpointSlices list them, the part of the data plane that hands them on (a name of
   * common/trace.ts: kube-proxy's endpoints, a DNS answer, an xDS push, nginx's reload, a watch event,
   * a mesh), and the proxy whose connections to the pods the lab sees come up, if there is one.
   */
  follows: { service: string; part: string; proxy?: string };
  /** where and how it calls, given the running parts; or why it cannot run here */
  call(parts: RunningParts): ClientCall | { unavailable: string };
}

export const NAMESPACE = 'grpc-lb';
export const HEADLESS = 'addr-server-headless';
export const HEADLESS_AGED = 'addr-server-aged-headless';
export const dnsName = (service: string) => `${service}.${NAMESPACE}.svc.cluster.local`;
const GRPC_PORT = 30051;

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

const NO_POD_ADDRESSES = 'pods have no addresses of their own on this machine, so no client can dial them';
const ROUND_ROBIN = ['--lb', 'round_robin'];

/** Needs a part that may be missing here: its reason, or the call. */
type Call = ClientCall | { unavailable: string };

function needs(parts: RunningParts, part: Part, call: () => Call): Call {
  const why = parts.unavailable[part];
  return why ? { unavailable: why } : call();
}

function podDialling(parts: RunningParts, call: () => Call): Call {
  return parts.ownPodAddresses ? call() : { unavailable: NO_POD_ADDRESSES };
}

export const CLIENTS: readonly ClientEntry[] = [
  {
    name: 'http',
    tag: 'L4',
    program: 'client-http',
    route: 'service',
    how: "client-http through the Service's NodePort (L4), a new connection per request",
    expect: 'spread',
    deployment: 'addr-server',
    parts: [],
    follows: { service: 'addr-server', part: 'endpoints:addr-server' },
    call: (parts) => ({ target: `http://127.0.0.1:${parts.service.http}/addr` }),
  },
  {
    name: 'l4',
    tag: 'L4',
    program: 'client-grpc',
    route: 'service',
    how: "pick_first through the Service's NodePort (L4): the problem",
    expect: 'stuck',
    deployment: 'addr-server',
    parts: [],
    follows: { service: 'addr-server', part: 'endpoints:addr-server' },
    call: (parts) => ({ target: `127.0.0.1:${parts.service.grpc}` }),
  },
  {
    name: 'l4+age',
    tag: 'L4, +age',
    program: 'client-grpc',
    route: 'service',
    how: 'the same, against servers with a max connection age',
    expect: 'reaches-new',
    deployment: 'addr-server-aged',
    parts: ['aged'],
    follows: { service: 'addr-server-aged', part: 'endpoints:addr-server-aged' },
    call: (parts) => needs(parts, 'aged', () => ({ target: `127.0.0.1:${parts.aged?.grpc}` })),
  },
  {
    name: 'dns',
    tag: 'dns',
    program: 'client-grpc',
    route: 'client',
    how: "round_robin over the headless Service's DNS",
    expect: 'never-new',
    deployment: 'addr-server',
    parts: ['dns'],
    follows: { service: HEADLESS, part: `dns:${dnsName(HEADLESS)}` },
    call: (parts) =>
      podDialling(parts, () =>
        needs(parts, 'dns', () => ({
          target: `dns://127.0.0.1:${parts.dns}/${dnsName(HEADLESS)}:${GRPC_PORT}`,
          args: ROUND_ROBIN,
          env: { GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'true' },
        })),
      ),
  },
  {
    name: 'dns+age',
    tag: 'dns, +age',
    program: 'client-grpc',
    route: 'client',
    how: 'the same, against servers with a max connection age',
    expect: 'reaches-new',
    deployment: 'addr-server-aged',
    parts: ['aged', 'dns-aged'],
    follows: { service: HEADLESS_AGED, part: `dns:${dnsName(HEADLESS_AGED)}` },
    call: (parts) =>
      podDialling(parts, () =>
        needs(parts, 'dns-aged', () => ({
          target: `dns://127.0.0.1:${parts.dnsAged}/${dnsName(HEADLESS_AGED)}:${GRPC_PORT}`,
          args: ROUND_ROBIN,
          env: { GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'true' },
        })),
      ),
  },
  {
    name: 'k8s',
    tag: 'k8s',
    program: 'client-grpc',
    route: 'client',
    how: 'round_robin over the k8s:/// resolver (watches EndpointSlices)',
    expect: 'every-pod',
    deployment: 'addr-server',
    parts: ['kubeconfig'],
    follows: { service: 'addr-server', part: 'watch:addr-server' },
    call: (parts) =>
      podDialling(parts, () => ({
        target: `k8s:///addr-server.${NAMESPACE}:grpc`,
        env: { KUBECONFIG: parts.kubeconfig ?? '' },
      })),
  },
  {
    name: 'k8s+outlier',
    tag: 'k8s, outlier detection',
    program: 'client-grpc',
    route: 'client',
    how: "the same, wrapped in grpc-js's outlier_detection: a pod failing most calls is ejected",
    expect: 'every-pod',
    deployment: 'addr-server',
    parts: ['kubeconfig'],
    follows: { service: 'addr-server', part: 'watch:addr-server' },
    call: (parts) =>
      podDialling(parts, () => ({
        target: `k8s:///addr-server.${NAMESPACE}:grpc`,
        args: ['--service-config', OUTLIER_DETECTION],
        env: { KUBECONFIG: parts.kubeconfig ?? '' },
      })),
  },
  {
    name: 'xds',
    tag: 'xds',
    program: 'client-grpc',
    route: 'client',
    how: 'proxyless gRPC: xds:/// fed by an ADS control plane',
    expect: 'every-pod',
    deployment: 'addr-server',
    parts: ['xds'],
    follows: { service: 'addr-server', part: 'xds:addr-server' },
    call: (parts) =>
      podDialling(parts, () =>
        needs(parts, 'xds', () => ({
          target: 'xds:///addr-server',
          env: { GRPC_XDS_BOOTSTRAP_CONFIG: parts.xds?.bootstrap ?? '' },
        })),
      ),
  },
  {
    name: 'edge',
    tag: 'edge',
    program: 'client-grpc',
    route: 'edge',
    how: 'nginx at the edge: grpc_pass to the pod IPs, reloaded on changes',
    expect: 'every-pod',
    deployment: 'addr-server',
    parts: ['edge'],
    follows: { service: 'addr-server', part: 'edge' },
    call: (parts) => needs(parts, 'edge', () => ({ target: `127.0.0.1:${parts.edge}` })),
  },
  {
    name: 'mesh',
    tag: 'mesh',
    program: 'client-grpc',
    route: 'mesh',
    how: "the lab's sidecar (L7), round-robin per call",
    expect: 'every-pod',
    deployment: 'addr-server',
    parts: ['mesh'],
    follows: { service: 'addr-server', part: 'mesh:mesh', proxy: 'mesh:mesh' },
    call: (parts) => needs(parts, 'mesh', () => ({ target: `127.0.0.1:${parts.mesh}` })),
  },
  {
    name: 'mesh-p2c',
    tag: 'mesh, p2c',
    program: 'client-grpc',
    route: 'mesh',
    how: "the lab's sidecar, Linkerd's power of two choices over peak EWMA",
    expect: 'cheapest-pods',
    deployment: 'addr-server',
    parts: ['mesh-p2c'],
    follows: { service: 'addr-server', part: 'mesh:mesh-p2c', proxy: 'mesh:mesh-p2c' },
    call: (parts) => needs(parts, 'mesh-p2c', () => ({ target: `127.0.0.1:${parts.meshP2c}` })),
  },
  {
    name: 'mesh-p2c+accrual',
    tag: 'mesh, p2c + accrual',
    program: 'client-grpc',
    route: 'mesh',
    how: "the same, over a Service with Linkerd's failure accrual turned on (balancer.linkerd.io/failure-accrual: consecutive)",
    expect: 'cheapest-pods',
    deployment: 'addr-server',
    parts: ['mesh-p2c-accrual'],
    follows: { service: 'addr-server-accrual', part: 'mesh:mesh-p2c-accrual', proxy: 'mesh:mesh-p2c-accrual' },
    call: (parts) => needs(parts, 'mesh-p2c-accrual', () => ({ target: `127.0.0.1:${parts.meshP2cAccrual}` })),
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
  'mesh-p2c+accrual',
] as const;

export function clientEntry(name: string): ClientEntry {
  const entry = CLIENTS.find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`no client ${name} in the catalog`);
  return entry;
}

/** "client-grpc (mesh)": how tables and verdicts name a client. */
export const labelOf = (entry: Pick<ClientEntry, 'program' | 'tag'>): string => `${entry.program} (${entry.tag})`;
