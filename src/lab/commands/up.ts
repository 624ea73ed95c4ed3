// `out/lab up` keeps the emulated cluster running with a live view and a control port;
// `out/lab scale N`, from another terminal, scales it through that port (the stand-in for kubectl).
import { errorText, EXIT_USAGE } from '../../common/cli.js';
import { listen } from '../../common/listen.js';
import { onShutdown } from '../../common/shutdown.js';
import { callApi, DEFAULT_API_PORT, serveApi } from './api.js';
import type { BalancerName } from '../data-plane/balancer.js';
import type { Manifest } from '../control-plane/manifest.js';
import { Cluster, startOrExit, type ClusterPorts } from '../cluster.js';
import { LiveView } from './live.js';
import type { Bins } from './scenario.js';
import { Workload } from '../workloads/workload.js';

export interface UpOptions {
  meshBalancer: BalancerName;
  replicas: number;
  interval: number;
  meshClient: boolean;
  apiPort: number;
  ports: ClusterPorts;
  manifest: Manifest;
}

export interface ScaleOptions {
  replicas: number;
  apiPort: number;
}

export async function up(options: UpOptions, bins: Bins): Promise<void> {
  const cluster = new Cluster(bins.server, options.manifest, options.meshBalancer);
  const live = new LiveView(cluster);
  const api = serveApi(cluster, (replicas) => {
    cluster.deployment.scale(replicas);
    live.reset();
  });
  // The control port first: if it is taken, nothing has started yet.
  const apiPort = await listen(api, options.apiPort, '127.0.0.1').catch((error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `lab: port ${options.apiPort} (the lab's control port) is already in use on 127.0.0.1 — another lab? Change it with --api-port`
        : `lab: ${error.message}`,
    );
    process.exit(1);
  });
  await startOrExit(cluster, options.ports, options.replicas);
  const { http, grpc, mesh } = cluster.ports;
  const header = [
    `lab up: Service HTTP 127.0.0.1:${http}, gRPC :${grpc} · mesh :${mesh} · control :${apiPort}`,
    `  try: out/client-http http://127.0.0.1:${http}/addr`,
    `       ${`out/client-grpc localhost:${grpc}`.padEnd(34)}(through the Service, L4)`,
    `       ${`out/client-grpc localhost:${mesh}`.padEnd(34)}(through the mesh sidecar, L7)`,
    `       out/lab scale 5${apiPort === DEFAULT_API_PORT ? '' : ` --api-port ${apiPort}`}`,
    '  Ctrl-C stops everything.',
  ].join('\n');
  const workload = options.meshClient
    ? new Workload({ name: 'client-grpc', protocol: 'grpc', path: 'l7', bin: bins.clientGrpc, target: `127.0.0.1:${mesh}` }, options.interval)
    : undefined;
  if (!process.stdout.isTTY) console.log(header);
  live.start(header);
  onShutdown(async () => {
    live.stop();
    api.close();
    await workload?.stop();
    await cluster.stop();
    console.log('lab: stopped; every pod and proxy it started is gone');
    process.exit(0);
  });
}

export async function scale(options: ScaleOptions): Promise<number> {
  try {
    const answer = await callApi(options.apiPort, 'POST', `/scale?replicas=${options.replicas}`);
    if (answer.status !== 200) {
      console.error(`lab scale: ${String(answer.body.error ?? answer.status)}`);
      return EXIT_USAGE;
    }
    console.log(`deployment.apps/addr-server scaled to ${options.replicas}`);
    return 0;
  } catch (error) {
    const refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    console.error(
      refused
        ? `lab scale: no lab is running on 127.0.0.1:${options.apiPort} — start one with \`out/lab up\``
        : `lab scale: ${errorText(error)}`,
    );
    return 1;
  }
}
