// `out/lab up` on ports of its own (every one picked free) and a pod network of its own, for the tests that
// watch a running lab from outside: its dashboard, its /metrics, its Kubernetes API. Where everything
// listens comes from its ready line, read with the parser that sits beside the line's format.
import { parseLabReady, type LabReady } from '../../../src/common/output.js';
import type { PodNetwork } from './pod-network.js';
import { exitWithin, start, type Running } from './processes.js';

export interface RunningLab extends LabReady {
  lab: Running;
  network: PodNetwork;
  /** SIGTERM (or `signal`); resolves with the exit code, or 'timeout' if it took more than 30 s. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const EPHEMERAL = ['--http-node-port', '0', '--grpc-node-port', '0', '--mesh-port', '0', '--api-port', '0'];

export async function labUp(network: PodNetwork, extra: string[] = []): Promise<RunningLab> {
  const lab = start('lab', ['up', ...EPHEMERAL, '--dashboard-port', '0', '--pod-cidr', network.cidr, ...extra]);
  let ready: LabReady | undefined;
  try {
    const line = await lab.waitFor(/msg=ready /, 30_000);
    ready = parseLabReady(line.input ?? '');
    if (!ready) throw new Error(`lab up: a ready line that does not parse: ${line.input}`);
  } catch (error) {
    void lab.stop();
    await exitWithin(lab, 10_000);
    throw error;
  }
  return {
    ...ready,
    lab,
    network,
    stop: (signal = 'SIGTERM') => {
      void lab.stop(signal);
      return exitWithin(lab, 30_000);
    },
  };
}
