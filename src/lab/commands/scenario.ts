// The default run: the post's two experiments at once. client-http and client-grpc through the
// Service, and client-grpc in the mesh, against 1 replica; scale to 5; then down to 2. A scale-up is
// counted from the rollout's end (every new pod ready, what `kubectl rollout status` waits for), a
// scale-down from the command, so that calls lost while pods terminate are counted.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../cluster.js';
import type { Progress } from './progress.js';
import { Tally, type PhaseName, type PhaseStart, type PhaseTally } from '../workloads/tally.js';
import { Workload, type CheckedClient } from '../workloads/workload.js';

/** Paths of the executables the lab runs. */
export interface Bins {
  server: string;
  clientHttp: string;
  clientGrpc: string;
}

export interface ScenarioOptions {
  phaseSeconds: number;
  intervalMs: number;
  bins: Bins;
  signal: AbortSignal;
  /** the lab API's kubeconfig, for the k8s:/// client */
  kubeconfig: string;
}

export const PHASES = [
  { name: 'before scaling', replicas: 1 },
  { name: 'scaled up', replicas: 5 },
  { name: 'scaled down', replicas: 2 },
] as const satisfies ReadonlyArray<{ name: PhaseName; replicas: number }>;

const AS_IN_THE_POST = 'in the post';

/** The clients the run starts, each with what it should show after the scale-up. */
function clientsFor(cluster: Cluster, bins: ScenarioOptions['bins'], kubeconfig: string): CheckedClient[] {
  const { http, grpc, mesh } = cluster.ports;
  return [
    {
      name: 'client-http',
      via: 'L4',
      protocol: 'http',
      path: 'l4',
      bin: bins.clientHttp,
      target: `http://127.0.0.1:${http}/addr`,
      expect: { sees: 'spread', as: AS_IN_THE_POST },
    },
    {
      name: 'client-grpc',
      via: 'L4',
      protocol: 'grpc',
      path: 'l4',
      bin: bins.clientGrpc,
      target: `127.0.0.1:${grpc}`,
      expect: { sees: 'stuck', as: AS_IN_THE_POST },
    },
    {
      name: 'client-grpc',
      via: 'mesh',
      protocol: 'grpc',
      path: 'l7',
      bin: bins.clientGrpc,
      target: `127.0.0.1:${mesh}`,
      expect: { sees: 'every-pod', as: AS_IN_THE_POST },
    },
    // Not in the post: the client balances itself, over the endpoints it watches through the API.
    {
      name: 'client-grpc',
      via: 'k8s',
      protocol: 'grpc',
      path: 'l7',
      bin: bins.clientGrpc,
      target: 'k8s:///addr-server.grpc-lb:grpc',
      env: { KUBECONFIG: kubeconfig },
      expect: { sees: 'every-pod', as: 'a client-side balancer should' },
    },
  ];
}

const STARTUP_TIMEOUT_MS = 30_000;
const ROLLOUT_TIMEOUT_MS = 60_000;

/** Resolves with `promise`, or rejects once `signal` aborts or `ms` pass: no wait is unbounded. */
export function bounded<T>(promise: Promise<T>, signal: AbortSignal, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    const onAbort = () => reject(new Error('interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/** Runs the phases and returns what the clients saw in each. Stops early (returns what it has) on abort. */
export async function runScenario(
  cluster: Cluster,
  progress: Progress,
  options: ScenarioOptions,
): Promise<PhaseTally[]> {
  const { deployment } = cluster;
  progress.status('starting 1 pod …');
  await bounded(deployment.waitReady(1), options.signal, STARTUP_TIMEOUT_MS, 'starting the first pod');

  const readyPods = () => deployment.endpoints.list().map((endpoint) => endpoint.ip);
  const workloads = clientsFor(cluster, options.bins, options.kubeconfig).map(
    (spec) => new Workload(spec, options.intervalMs),
  );
  const tally = new Tally(workloads, readyPods());
  const onReady = () => tally.podsReady(readyPods());
  deployment.endpoints.on('change', onReady);
  try {
    progress.status('waiting for the first replies …');
    const firstReplies = Promise.all(workloads.map((w) => new Promise((resolve) => w.once('reply', resolve))));
    await bounded(firstReplies, options.signal, STARTUP_TIMEOUT_MS, "the clients' first replies");
    progress.event(`first replies from all ${workloads.length} clients`);

    for (const [index, phase] of PHASES.entries()) {
      if (options.signal.aborted) break;
      const start: PhaseStart = { pods: [] };
      if (phase.replicas !== deployment.replicas) {
        progress.event(
          `scaling addr-server to ${phase.replicas} replicas (kubectl scale --replicas=${phase.replicas})`,
        );
        const startedAt = performance.now();
        const up = phase.replicas > deployment.replicas;
        deployment.scale(phase.replicas);
        if (up) {
          progress.status(`rolling out ${phase.replicas} replicas: waiting until every new pod is ready …`);
          await bounded(
            deployment.waitReady(phase.replicas),
            options.signal,
            ROLLOUT_TIMEOUT_MS,
            `the rollout to ${phase.replicas} replicas`,
          );
          start.rollout = { startedAt, ms: performance.now() - startedAt };
          progress.event(
            `rollout complete: ${phase.replicas} of ${phase.replicas} pods ready after ${(start.rollout.ms / 1000).toFixed(1)} s (kubectl rollout status)`,
          );
        }
      }
      start.pods = readyPods();
      tally.begin(phase.name, phase.replicas, options.phaseSeconds, start);
      progress.event(
        `phase ${index + 1}/${PHASES.length}: ${phase.name}, ${phase.replicas} replica${phase.replicas === 1 ? '' : 's'}, counting for ${options.phaseSeconds} s`,
      );
      for (let left = options.phaseSeconds; left > 0 && !options.signal.aborted; left--) {
        const ready = deployment.endpoints.list().length;
        progress.status(
          `phase ${index + 1}/${PHASES.length} ${phase.name}: ${phase.replicas} replicas (${ready} ready) — ${left} s left`,
        );
        await sleep(1000, undefined, { signal: options.signal }).catch(() => undefined);
      }
      tally.end();
    }
  } finally {
    deployment.endpoints.off('change', onReady);
    progress.done();
    await Promise.all(workloads.map((w) => w.stop()));
  }
  return tally.phases;
}
