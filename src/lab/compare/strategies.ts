// The fixes for gRPC balancing that `lab compare` measures side by side, each with what its client
// does and what it is expected to show once the Deployment scales from 1 to 5.

/** What a strategy should show after the scale-up to 5. */
export type Expectation =
  /** all its calls on the one pod it started on */
  | 'stuck'
  /** never a call to a pod added by the scale-up */
  | 'never-new'
  /** calls to at least one added pod (once connections age out) */
  | 'reaches-new'
  /** calls to all 5 pods, and no call lost while scaling down */
  | 'every-pod';

export const EXPECTED: Record<Expectation, string> = {
  stuck: 'stays on one pod',
  'never-new': 'never reaches the added pods',
  'reaches-new': 'reaches added pods once connections age out',
  'every-pod': 'reaches all 5 pods, loses no call while scaling down',
};

/** Which Deployment a strategy's client calls: the plain one, or one whose servers age connections out. */
export type Fleet = 'plain' | 'aged';

export interface Strategy {
  name: string;
  fleet: Fleet;
  expect: Expectation;
  /** one line: what the client does */
  how: string;
}

export const STRATEGIES: Strategy[] = [
  { name: 'l4', fleet: 'plain', expect: 'stuck', how: "pick_first through the Service's NodePort (L4): the problem" },
  { name: 'l4+age', fleet: 'aged', expect: 'reaches-new', how: 'the same, against servers with a max connection age' },
  { name: 'dns', fleet: 'plain', expect: 'never-new', how: "round_robin over the headless Service's DNS" },
  { name: 'dns+age', fleet: 'aged', expect: 'reaches-new', how: 'the same, against servers with a max connection age' },
  {
    name: 'k8s',
    fleet: 'plain',
    expect: 'every-pod',
    how: 'round_robin over the k8s:/// resolver (watches EndpointSlices)',
  },
  { name: 'xds', fleet: 'plain', expect: 'every-pod', how: 'proxyless gRPC: xds:/// fed by an ADS control plane' },
  {
    name: 'edge',
    fleet: 'plain',
    expect: 'every-pod',
    how: 'nginx at the edge: grpc_pass to the pod IPs, reloaded on changes',
  },
  { name: 'mesh', fleet: 'plain', expect: 'every-pod', how: "the lab's sidecar (L7), round-robin per call" },
  {
    name: 'mesh-p2c',
    fleet: 'plain',
    expect: 'every-pod',
    how: "the lab's sidecar, Linkerd's power of two choices over peak EWMA",
  },
];

export const STRATEGY_NAMES = STRATEGIES.map((s) => s.name);
