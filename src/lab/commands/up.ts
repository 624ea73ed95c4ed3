// `out/lab up` keeps the emulated cluster running with a live view in the terminal and a dashboard in
// the browser; the real kubectl talks to its Kubernetes API (a kubeconfig is written and its path
// printed), and so do `out/lab scale N` and the dashboard's buttons. It runs the post's clients from the
// catalog once the first pod is ready — client-http and client-grpc through the Service, client-grpc in
// the mesh — and a fourth, not in the post: client-grpc on k8s:///, balancing by itself over the
// endpoints. With --strategies it also applies those strategies' folders of k8s/strategies, so that their
// client Deployments run as pods, as `skaffold run -p NAME` runs them on a cluster — what `lab compare
// --cluster` then measures through the lab's API. Its first line on stdout is a machine-readable ready line
// (logfmt: msg=ready and the ports).
import type { CommandModule, InferredOptionTypes } from 'yargs';
import { errorText, kinds, numberOption } from '../../common/cli.js';
import { isAddressInUse, PortInUseError } from '../../common/errors.js';
import { log } from '../../common/log.js';
import { labReadyFields } from '../../common/output.js';
import { onShutdown } from '../../common/shutdown.js';
import { MAX_REPLICAS, NAMESPACE } from '../cluster.js';
import { DEFAULT_API_PORT, DEFAULT_DASHBOARD_PORT } from '../defaults.js';
import type { BalancerName } from '../data-plane/balancer.js';
import { LiveFeed } from '../dashboard/feed.js';
import { countMeshRequests, type LabView } from '../dashboard/lab-view.js';
import { LabMetrics } from '../dashboard/metrics.js';
import { scrapeTargets } from '../dashboard/scrape-targets.js';
import { Dashboard } from '../dashboard/server.js';
import { clientEntry, CLUSTER_STRATEGIES, labelOf, POST_CLIENTS, type ClientEntry } from '../experiment/clients.js';
import { SERVER } from '../experiment/parts.js';
import { Session } from '../experiment/session.js';
import type { Manifests } from '../manifests.js';
import type { Out } from '../out.js';
import { LiveView } from './live.js';
import { sayMeshEvents } from './mesh-words.js';
import {
  apiPortOption,
  intervalOption,
  manifestOption,
  meshBalancerOption,
  podCidrOption,
  portOptions,
  strategiesDirOption,
  strategiesOption,
} from './options.js';
import { clusterPortFlags, startFailure } from './start-errors.js';

export interface UpOptions {
  meshBalancer: BalancerName;
  replicas: number | undefined;
  interval: number;
  meshClient: boolean;
  serviceClients: boolean;
  k8sClient: boolean;
  ports: { api: number; http: number; grpc: number; mesh: number };
  dashboardPort: number;
  manifest: Manifests;
  podCidr: string;
  kubeconfig: string | undefined;
  /** strategies whose folders are applied, their clients as pods */
  strategies: string[];
  strategiesDir: string;
}

/** The dashboard's ids for the post's clients (its page keys its panels by them). */
const PANEL_IDS: Record<string, string> = { http: 'http-l4', l4: 'grpc-l4', mesh: 'grpc-l7', k8s: 'grpc-k8s' };

export async function up(options: UpOptions, programs: Out): Promise<number> {
  // The dashboard listens first: the API must know its origin to take the page's requests.
  let dashboard: Dashboard;
  try {
    dashboard = new Dashboard(programs.dashboard);
    await dashboard.listen(options.dashboardPort);
  } catch (error) {
    const failure = isAddressInUse(error) ? new PortInUseError(options.dashboardPort, 'the dashboard') : error;
    console.error(`lab: ${startFailure(failure, [{ port: options.dashboardPort, flag: '--dashboard-port' }])}`);
    return 1;
  }
  const wanted = new Set<string>([
    ...(options.serviceClients ? ['http', 'l4'] : []),
    ...(options.meshClient ? ['mesh'] : []),
    ...(options.k8sClient ? ['k8s'] : []),
  ]);
  const entries = POST_CLIENTS.filter((name) => wanted.has(name)).map(clientEntry);
  // What the lab says before the live view starts is kept for it; after, it goes there at once.
  const events: string[] = [];
  const shown: { view?: LiveView } = {};
  const note = (text: string) => (shown.view ? shown.view.note(text) : events.push(text));
  const session = new Session({
    programs,
    manifest: options.manifest.objects,
    podCidr: options.podCidr,
    ports: options.ports,
    meshBalancer: options.meshBalancer,
    strategiesDir: options.strategiesDir,
    podEvents: false,
    onSidecar: (name, mesh) => sayMeshEvents(name, mesh, note),
    progress: { event: (text) => note(text), status: () => undefined },
    allowedOrigins: dashboard.origins,
    kubeconfig: options.kubeconfig,
  });
  let running;
  try {
    // The mesh always runs: the post's in-mesh commands use it whether or not the lab's own client does.
    running = await session.start({
      hostParts: new Set(['mesh']),
      strategies: options.strategies.map(clientEntry),
      clientPods: true,
      replicas: options.replicas,
    });
  } catch (error) {
    await Promise.allSettled([session.stop(), dashboard.close()]);
    console.error(`lab: ${startFailure(error, clusterPortFlags(options.ports))}`);
    return 1;
  }
  const lab: LabView = {
    store: session.cluster.store,
    namespace: NAMESPACE,
    deployment: SERVER,
    endpoints: session.cluster.endpoints(SERVER),
    http: session.cluster.kubeProxy.proxy(NAMESPACE, SERVER, 'http'),
    grpc: session.cluster.kubeProxy.proxy(NAMESPACE, SERVER, 'grpc'),
    mesh: session.parts.meshes.get('mesh'),
    meshRequests: countMeshRequests(session.parts.meshes.get('mesh')),
  };
  const feed = new LiveFeed(
    lab,
    entries.map((entry) => ({ id: PANEL_IDS[entry.name] ?? entry.name, label: describe(entry) })),
  );
  const metrics = new LabMetrics(lab);
  feed.start();
  const api = session.cluster.api.port;
  const { store, network } = session.cluster;
  dashboard.show({
    feed,
    metrics,
    apiPort: api,
    namespace: NAMESPACE,
    deployment: SERVER,
    maxReplicas: MAX_REPLICAS,
    targets: () =>
      scrapeTargets(store.list('pods', { namespace: NAMESPACE }).items, (ip, port) => network.dial(ip, port)),
  });

  const { http, grpc } = running.service;
  const mesh = running.mesh ?? 0;
  const kubeconfig = running.kubeconfig ?? '';
  log('ready', labReadyFields({ api, http, grpc, mesh, dashboard: dashboard.port, kubeconfig }));
  const view = new LiveView(lab, session.pods);
  shown.view = view;
  for (const text of events) view.note(text);
  if (lab.mesh) sayMeshEvents('mesh', lab.mesh, (line) => view.note(line));
  const header = [
    `lab up: Service HTTP 127.0.0.1:${http}, gRPC :${grpc} · mesh :${mesh} · API :${api}`,
    `  dashboard: ${dashboard.url}    (live charts; its buttons scale and delete pods through the API)`,
    `  export KUBECONFIG=${kubeconfig}    # then kubectl works as on a cluster:`,
    `       kubectl scale -n ${NAMESPACE} --replicas=5 deployment/${SERVER}`,
    `       kubectl get pods -n ${NAMESPACE} -o wide`,
    `  try: out/client-http http://127.0.0.1:${http}/addr`,
    `       ${`out/client-grpc localhost:${grpc}`.padEnd(48)}(through the Service, L4)`,
    `       ${`out/client-grpc localhost:${mesh}`.padEnd(48)}(through the mesh sidecar, L7)`,
    `       ${`out/client-grpc k8s:///${SERVER}.${NAMESPACE}:grpc`.padEnd(48)}(the client watches the endpoints)`,
    `       out/lab scale 5${api === DEFAULT_API_PORT ? '' : ` --api-port ${api}`}`,
    '  Ctrl-C stops everything.',
  ].join('\n');
  if (!process.stdout.isTTY) console.log(header);
  view.start(header);

  // The clients start once a pod can answer them, so that they do not open with errors.
  const abort = new AbortController();
  let stopping = false;
  void session
    .firstPods([SERVER], abort.signal, 24 * 3600_000)
    .then(async () => {
      if (stopping) return;
      for (const { entry, workload } of await session.startClients(entries, 'host', { intervalMs: options.interval })) {
        feed.follow(PANEL_IDS[entry.name] ?? entry.name, workload);
        metrics.follow(workload, labelOf(entry), entry.route);
      }
    })
    .catch((error: unknown) => {
      if (!stopping) view.note(`lab: ${errorText(error)}`);
    });
  return new Promise((resolve) => {
    onShutdown(async () => {
      stopping = true;
      abort.abort();
      view.stop();
      feed.stop();
      await Promise.all([dashboard.close(), session.stop()]);
      console.log('lab: stopped; every pod and proxy it started is gone');
      resolve(0);
    });
  });
}

/** The panel's title: what the client is and how its calls reach the pods. */
function describe(entry: ClientEntry): string {
  switch (entry.route) {
    case 'service':
      return `${entry.program} through the Service (L4)`;
    case 'mesh':
      return `${entry.program} in the mesh (L7)`;
    case 'client':
      return `${entry.program} on k8s:/// (balances by itself)`;
    case 'edge':
      return `${entry.program} through the edge (L7)`;
  }
}

const upOptions = (out: Out) =>
  ({
    replicas: numberOption(
      'replicas',
      { min: 0, max: MAX_REPLICAS, noun: 'a whole number of replicas' },
      "replicas to start with (default: the manifest's)",
      undefined,
    ),
    'mesh-client': {
      type: 'boolean',
      default: true,
      describe: "run an in-mesh client-grpc, like the post's in-cluster client",
    },
    'service-clients': {
      type: 'boolean',
      default: true,
      describe: "run client-http and client-grpc through the Service, like the post's two terminals",
    },
    'k8s-client': {
      type: 'boolean',
      default: true,
      describe: 'run client-grpc on k8s:///, which balances by itself over the endpoints it watches',
    },
    'dashboard-port': numberOption(
      'dashboard-port',
      kinds.port,
      "the dashboard (live charts, scale and delete buttons) and the lab's /metrics, on 127.0.0.1 (0: any free port)",
      DEFAULT_DASHBOARD_PORT,
    ),
    ...intervalOption(1000, "milliseconds between each lab client's calls"),
    ...meshBalancerOption,
    ...portOptions,
    ...apiPortOption(DEFAULT_API_PORT),
    ...manifestOption(out.file('k8s/server.yml')),
    ...strategiesOption(
      CLUSTER_STRATEGIES,
      'none',
      `strategies to deploy beside the server, comma-separated (${CLUSTER_STRATEGIES.join(', ')}): their folders of k8s/strategies applied, each client Deployment run as a pod, as on a cluster, a meshed one beside a sidecar that balances as Linkerd's proxy does (none: no strategy)`,
      true,
    ),
    ...strategiesDirOption(out.file('k8s/strategies')),
    ...podCidrOption,
    kubeconfig: {
      type: 'string',
      describe: 'where to write the kubeconfig for kubectl (default: a file in the temporary folder)',
    },
  }) as const;

export function upCommand(out: Out): CommandModule<object, InferredOptionTypes<ReturnType<typeof upOptions>>> {
  return {
    command: 'up',
    describe:
      "keep the emulated cluster running with a live per-pod tally and a dashboard; run the post's client commands from other terminals",
    builder: upOptions(out),
    handler: async (argv) => {
      const code = await up(
        {
          meshBalancer: argv['mesh-balancer'],
          replicas: argv.replicas,
          interval: argv.interval,
          meshClient: argv['mesh-client'],
          serviceClients: argv['service-clients'],
          k8sClient: argv['k8s-client'],
          ports: {
            api: argv['api-port'],
            http: argv['http-node-port'],
            grpc: argv['grpc-node-port'],
            mesh: argv['mesh-port'],
          },
          dashboardPort: argv['dashboard-port'],
          manifest: argv.manifest,
          podCidr: argv['pod-cidr'],
          kubeconfig: argv.kubeconfig,
          strategies: argv.strategies ?? [],
          strategiesDir: argv['strategies-dir'],
        },
        out,
      );
      process.exit(code);
    },
  };
}
