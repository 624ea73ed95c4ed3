// The default run: the post's two experiments at once. client-http and client-grpc through the
// Service, and client-grpc in the mesh, against 1 replica; scale to 5; then down to 2.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../cluster.js';
import type { Progress } from './progress.js';
import { Tally, type PhaseTally } from '../workloads/tally.js';
import { Workload, type ClientSpec } from '../workloads/workload.js';

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
}

export const PHASES = [
  { name: 'before scaling', replicas: 1 },
  { name: 'scaled up', replicas: 5 },
  { name: 'scaled down', replicas: 2 },
] as const;

function clientsFor(cluster: Cluster, bins: ScenarioOptions['bins']): ClientSpec[] {
  const { http, grpc, mesh } = cluster.ports;
  return [
    { name: 'client-http', protocol: 'http', path: 'l4', bin: bins.clientHttp, target: `http://127.0.0.1:${http}/addr` },
    { name: 'client-grpc', protocol: 'grpc', path: 'l4', bin: bins.clientGrpc, target: `127.0.0.1:${grpc}` },
    { name: 'client-grpc', protocol: 'grpc', path: 'l7', bin: bins.clientGrpc, target: `127.0.0.1:${mesh}` },
  ];
}

const STARTUP_TIMEOUT_MS = 30_000;

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
export async function runScenario(cluster: Cluster, progress: Progress, options: ScenarioOptions): Promise<PhaseTally[]> {
  const { deployment } = cluster;
  progress.status('starting 1 pod …');
  await bounded(deployment.waitReady(1), options.signal, STARTUP_TIMEOUT_MS, 'starting the first pod');

  const workloads = clientsFor(cluster, options.bins).map((spec) => new Workload(spec, options.intervalMs));
  const tally = new Tally(workloads);
  try {
    progress.status('waiting for the first replies …');
    const firstReplies = Promise.all(workloads.map((w) => new Promise((resolve) => w.once('reply', resolve))));
    await bounded(firstReplies, options.signal, STARTUP_TIMEOUT_MS, 'the clients\' first replies');
    progress.event('first replies from all three clients');

    for (const [index, phase] of PHASES.entries()) {
      if (options.signal.aborted) break;
      if (phase.replicas !== deployment.replicas) {
        progress.event(`scaling addr-server to ${phase.replicas} replicas (kubectl scale --replicas=${phase.replicas})`);
      }
      deployment.scale(phase.replicas);
      tally.begin(phase.name, phase.replicas, options.phaseSeconds);
      progress.event(`phase ${index + 1}/${PHASES.length}: ${phase.name}, ${phase.replicas} replica${phase.replicas === 1 ? '' : 's'}, counting for ${options.phaseSeconds} s`);
      for (let left = options.phaseSeconds; left > 0 && !options.signal.aborted; left--) {
        const ready = deployment.endpoints.list().length;
        progress.status(`phase ${index + 1}/${PHASES.length} ${phase.name}: ${phase.replicas} replicas (${ready} ready) — ${left} s left`);
        await sleep(1000, undefined, { signal: options.signal }).catch(() => undefined);
      }
      tally.end();
    }
  } finally {
    progress.done();
    await Promise.all(workloads.map((w) => w.stop()));
  }
  return tally.phases;
}
