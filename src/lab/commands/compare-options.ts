// What `lab compare` is asked to do, in the lab or on a cluster (compare.ts, compare-cluster.ts): its
// options once parsed.
import type { Scenario } from '../experiment/scenario.js';
import type { Manifests } from '../manifests.js';

export interface ClusterTarget {
  /** the kubeconfig file (default: KUBECONFIG, else ~/.kube/config) */
  kubeconfig?: string;
  context?: string;
  /** default: the context's, else the kit's grpc-lb */
  namespace?: string;
}

export interface CompareOptions {
  scenario: Scenario;
  strategies: string[];
  phaseMs: number | undefined;
  intervalMs: number | undefined;
  rate: number | undefined;
  deadlineMs: number | undefined;
  /** the +age servers' max connection age instead of their manifest's */
  connectionAgeMs: number | undefined;
  latencySeconds: number;
  latencyRounds: number;
  latencyRate: number;
  json: string | undefined;
  html: string | undefined;
  manifest: Manifests;
  strategiesDir: string;
  podCidr: string;
  /** run on this cluster instead of the lab */
  cluster?: ClusterTarget;
}
