// `out/lab up` keeps the emulated cluster running with a live view; the real kubectl talks to its
// Kubernetes API (a kubeconfig is written and its path printed), and so does `out/lab scale N`.
import { onShutdown } from '../../common/shutdown.js';
import { writeKubeconfig } from '../api/kubeconfig.js';
import type { ClusterPorts } from '../cluster.js';
import type { Manifest } from '../control-plane/manifest.js';
import type { BalancerName } from '../data-plane/balancer.js';
import { Workload } from '../workloads/workload.js';
import { LiveView } from './live.js';
import type { Bins } from './scenario.js';
import { DEFAULT_API_PORT } from './scale.js';
import { startCluster } from './start-cluster.js';

export interface UpOptions {
  meshBalancer: BalancerName;
  replicas: number | undefined;
  interval: number;
  meshClient: boolean;
  ports: ClusterPorts;
  manifest: Manifest;
  podCidr: string;
  kubeconfig: string | undefined;
}

export async function up(options: UpOptions, bins: Bins): Promise<void> {
  const cluster = await startCluster(
    { serverBin: bins.server, manifest: options.manifest, meshBalancer: options.meshBalancer, podCidr: options.podCidr },
    options.ports,
    options.replicas,
  );
  const live = new LiveView(cluster);
  const kubeconfig = await writeKubeconfig(cluster.api.url, options.kubeconfig);
  const { http, grpc, mesh, api } = cluster.ports;
  const header = [
    `lab up: Service HTTP 127.0.0.1:${http}, gRPC :${grpc} · mesh :${mesh} · API :${api}`,
    `  export KUBECONFIG=${kubeconfig}    # then kubectl works as on a cluster:`,
    '       kubectl scale -n grpc-lb --replicas=5 deployment/addr-server',
    '       kubectl get pods -n grpc-lb -o wide',
    `  try: out/client-http http://127.0.0.1:${http}/addr`,
    `       ${`out/client-grpc localhost:${grpc}`.padEnd(48)}(through the Service, L4)`,
    `       ${`out/client-grpc localhost:${mesh}`.padEnd(48)}(through the mesh sidecar, L7)`,
    `       ${'out/client-grpc k8s:///addr-server.grpc-lb:grpc'.padEnd(48)}(the client watches the endpoints)`,
    `       out/lab scale 5${api === DEFAULT_API_PORT ? '' : ` --api-port ${api}`}`,
    '  Ctrl-C stops everything.',
  ].join('\n');
  const workload = options.meshClient
    ? new Workload({ name: 'client-grpc', protocol: 'grpc', path: 'l7', bin: bins.clientGrpc, target: `127.0.0.1:${mesh}` }, options.interval)
    : undefined;
  if (!process.stdout.isTTY) console.log(header);
  live.start(header);
  onShutdown(async () => {
    live.stop();
    await workload?.stop();
    await cluster.stop();
    console.log('lab: stopped; every pod and proxy it started is gone');
    process.exit(0);
  });
}
