// `out/lab up` on ports of its own (every one picked free) and a pod network of its own, for the tests
// that watch a running lab from outside: its dashboard, its /metrics, its Kubernetes API.
import { exitWithin, start, type Running } from './processes.js';

export interface RunningLab {
  lab: Running;
  http: number;
  grpc: number;
  mesh: number;
  api: number;
  dashboard: number;
  kubeconfig: string;
  /** the n-th address of the lab's pod network (pods get .8, .9, …) */
  ip: (n: number) => string;
  stop(): Promise<number | string>;
}

/** `network` picks 127.248.<network>.0/24: each test file takes its own. */
export async function labUp(network: number, extra: string[] = []): Promise<RunningLab> {
  const prefix = `127.248.${network}.`;
  const lab = start('lab', [
    'up',
    '--http-node-port',
    '0',
    '--grpc-node-port',
    '0',
    '--mesh-port',
    '0',
    '--api-port',
    '0',
    '--dashboard-port',
    '0',
    '--pod-cidr',
    `${prefix}0/24`,
    ...extra,
  ]);
  const ports = await lab.waitFor(/HTTP 127\.0\.0\.1:(\d+), gRPC :(\d+) · mesh :(\d+) · API :(\d+)/);
  const dashboard = await lab.waitFor(/dashboard: http:\/\/127\.0\.0\.1:(\d+)\//);
  const kubeconfig = await lab.waitFor(/export KUBECONFIG=(\S+)/);
  return {
    lab,
    http: Number(ports[1]),
    grpc: Number(ports[2]),
    mesh: Number(ports[3]),
    api: Number(ports[4]),
    dashboard: Number(dashboard[1]),
    kubeconfig: kubeconfig[1] as string,
    ip: (n) => `${prefix}${n}`,
    stop: () => {
      lab.child.kill('SIGTERM');
      return exitWithin(lab, 30_000);
    },
  };
}
