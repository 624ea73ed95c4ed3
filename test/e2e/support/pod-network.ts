// Each end-to-end file's own pod networks: files run side by side, and a pod left from one file must never
// answer another file's calls. A file's networks are 127.<220 + its place below>.<n>.0/24, so that no
// two files can share one (nor the lab's default, 127.244.0.0/24, nor the benchmarks' 127.249–253).
const FILES = [
  'cluster-dns',
  'k8s-resolver',
  'xds-control-plane',
  'lab',
  'lab-kubectl',
  'lab-metrics',
  'compare',
  'compare-faults',
  'dashboard',
  'prometheus',
  'pod-addresses',
  'compare-cluster',
  'compare-manifests',
] as const;

export type NetworkOwner = (typeof FILES)[number];

export interface PodNetwork {
  /** the /24, as --pod-cidr takes it */
  cidr: string;
  /** its addresses' first three numbers, with the dot: 127.223.0. */
  prefix: string;
  /** the n-th address in it (the lab's pods get .8, .9, …) */
  ip(n: number): string;
}

/** The `n`-th /24 of `file`'s own (0 to 255). */
export function podNetwork(file: NetworkOwner, n = 0): PodNetwork {
  const prefix = `127.${220 + FILES.indexOf(file)}.${n}.`;
  return { cidr: `${prefix}0/24`, prefix, ip: (host) => `${prefix}${host}` };
}
