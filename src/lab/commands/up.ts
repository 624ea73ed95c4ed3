// `out/lab up` keeps the emulated cluster running with a live view in the terminal and a dashboard in
// the browser; the real kubectl talks to its Kubernetes API (a kubeconfig is written and its path
// printed), and so do `out/lab scale N` and the dashboard's buttons. It runs the post's three clients
// once the first pod is ready — client-http and client-grpc through the Service, client-grpc in the
// mesh — and a fourth, not in the post: client-grpc on k8s:///, balancing by itself over the endpoints.
import { errorText } from '../../common/cli.js';
import { onShutdown } from '../../common/shutdown.js';
import { writeKubeconfig } from '../api/kubeconfig.js';
import { MAX_REPLICAS, NAMESPACE, type Cluster, type ClusterPorts } from '../cluster.js';
import type { Manifest } from '../control-plane/manifest.js';
import type { BalancerName } from '../data-plane/balancer.js';
import { LiveFeed } from '../dashboard/feed.js';
import type { FeedClient } from '../dashboard/wire.js';
import { LabMetrics, type Via } from '../dashboard/metrics.js';
import { Dashboard } from '../dashboard/server.js';
import { Workload, type ClientSpec } from '../workloads/workload.js';
import { LiveView } from './live.js';
import type { Bins } from './scenario.js';
import { DEFAULT_API_PORT } from './scale.js';
import { startCluster } from './start-cluster.js';

/** Where `lab up` serves its dashboard unless told otherwise: beside the API's 30000. */
export const DEFAULT_DASHBOARD_PORT = 30001;

export interface UpOptions {
  meshBalancer: BalancerName;
  replicas: number | undefined;
  interval: number;
  meshClient: boolean;
  serviceClients: boolean;
  k8sClient: boolean;
  ports: ClusterPorts;
  dashboardPort: number;
  manifest: Manifest;
  podCidr: string;
  kubeconfig: string | undefined;
}

type LabClient = FeedClient & { spec: ClientSpec; via: Via };

function clientsOf(cluster: Cluster, bins: Bins, options: UpOptions, kubeconfig: string): LabClient[] {
  const { http, grpc, mesh } = cluster.ports;
  const service: LabClient[] = [
    {
      id: 'http-l4',
      via: 'service',
      label: 'client-http through the Service (L4)',
      spec: {
        name: 'client-http',
        protocol: 'http',
        path: 'l4',
        bin: bins.clientHttp,
        target: `http://127.0.0.1:${http}/addr`,
      },
    },
    {
      id: 'grpc-l4',
      via: 'service',
      label: 'client-grpc through the Service (L4)',
      spec: { name: 'client-grpc', protocol: 'grpc', path: 'l4', bin: bins.clientGrpc, target: `127.0.0.1:${grpc}` },
    },
  ];
  const inMesh: LabClient = {
    id: 'grpc-l7',
    via: 'mesh',
    label: 'client-grpc in the mesh (L7)',
    spec: { name: 'client-grpc', protocol: 'grpc', path: 'l7', bin: bins.clientGrpc, target: `127.0.0.1:${mesh}` },
  };
  const selfBalancing: LabClient = {
    id: 'grpc-k8s',
    via: 'k8s',
    label: 'client-grpc on k8s:/// (balances by itself)',
    spec: {
      name: 'client-grpc',
      protocol: 'grpc',
      path: 'l7',
      bin: bins.clientGrpc,
      target: `k8s:///addr-server.${NAMESPACE}:grpc`,
      env: { KUBECONFIG: kubeconfig },
    },
  };
  return [
    ...(options.serviceClients ? service : []),
    ...(options.meshClient ? [inMesh] : []),
    ...(options.k8sClient ? [selfBalancing] : []),
  ];
}

export async function up(options: UpOptions, bins: Bins & { dashboard: string }): Promise<void> {
  // The dashboard listens first: the API must know its origin to take the page's requests.
  let dashboard: Dashboard;
  try {
    dashboard = new Dashboard(bins.dashboard);
    await dashboard.listen(options.dashboardPort);
  } catch (error) {
    const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    console.error(
      `lab: ${taken ? `port ${options.dashboardPort} (the dashboard) is already in use on 127.0.0.1 — another lab? Change it with --dashboard-port` : errorText(error)}`,
    );
    process.exit(1);
  }
  const cluster = await startCluster(
    {
      serverBin: bins.server,
      manifest: options.manifest,
      meshBalancer: options.meshBalancer,
      podCidr: options.podCidr,
      allowedOrigins: dashboard.origins,
    },
    options.ports,
    options.replicas,
  );
  const kubeconfig = await writeKubeconfig(cluster.api.url, options.kubeconfig);
  const clients = clientsOf(cluster, bins, options, kubeconfig);
  const feed = new LiveFeed(
    cluster,
    clients.map(({ id, label }) => ({ id, label })),
  );
  const metrics = new LabMetrics(cluster);
  feed.start();
  dashboard.show({
    feed,
    metrics,
    apiPort: cluster.ports.api,
    namespace: NAMESPACE,
    deployment: options.manifest.deployment,
    maxReplicas: MAX_REPLICAS,
  });

  const live = new LiveView(cluster);
  const { http, grpc, mesh, api } = cluster.ports;
  const header = [
    `lab up: Service HTTP 127.0.0.1:${http}, gRPC :${grpc} · mesh :${mesh} · API :${api}`,
    `  dashboard: ${dashboard.url}    (live charts; its buttons scale and delete pods through the API)`,
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
  if (!process.stdout.isTTY) console.log(header);
  live.start(header);

  // The clients start once a pod can answer them, so that they do not open with errors.
  const workloads: Workload[] = [];
  let stopping = false;
  void cluster.deployment.waitReady(1).then(() => {
    if (stopping) return;
    for (const { id, spec, via } of clients) {
      const workload = new Workload(spec, options.interval);
      feed.follow(id, workload);
      metrics.follow(workload, via);
      workloads.push(workload);
    }
  });
  onShutdown(async () => {
    stopping = true;
    live.stop();
    feed.stop();
    await Promise.all([dashboard.close(), ...workloads.map((workload) => workload.stop())]);
    await cluster.stop();
    console.log('lab: stopped; every pod and proxy it started is gone');
    process.exit(0);
  });
}
