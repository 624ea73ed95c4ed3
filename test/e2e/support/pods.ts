// A running lab's pods as its Kubernetes API shows them (what `kubectl get pods -o wide` reads), and the pod
// processes of a pod network as the machine shows them: a pod left running after its lab has stopped is one
// of those.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { compareIps } from '../../../src/common/ip.js';
import { waitUntil } from '../../support/wait.js';
import type { PodNetwork } from './pod-network.js';
import { alive, childrenOf, exitWithin, type Running } from './processes.js';

export interface Pod {
  name: string;
  ip: string;
  ready: boolean;
  terminating: boolean;
  restarts: number;
  /** the process running its container (the lab's containerID is process://PID); 0 before it runs */
  pid: number;
}

interface PodObject {
  metadata: { name: string; deletionTimestamp?: string };
  status: {
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ containerID?: string; restartCount?: number }>;
  };
}

async function get<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** The Deployment addr-server's replicas, and its namespace's pods in pod-IP order. */
export async function podsOf(apiPort: number): Promise<{ replicas: number; pods: Pod[] }> {
  const api = `http://127.0.0.1:${apiPort}`;
  const deployment = await get<{ spec: { replicas: number } }>(
    `${api}/apis/apps/v1/namespaces/grpc-lb/deployments/addr-server`,
  );
  const list = await get<{ items: PodObject[] }>(`${api}/api/v1/namespaces/grpc-lb/pods`);
  return {
    replicas: deployment.spec.replicas,
    pods: list.items
      .map(({ metadata, status }) => {
        const container = status.containerStatuses?.[0];
        return {
          name: metadata.name,
          ip: status.podIP ?? '',
          ready: status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          terminating: metadata.deletionTimestamp !== undefined,
          restarts: container?.restartCount ?? 0,
          pid: Number(/^process:\/\/(\d+)$/.exec(container?.containerID ?? '')?.[1] ?? 0),
        };
      })
      .sort((a, b) => compareIps(a.ip, b.ip)),
  };
}

/** The ready pods' IPs. */
export const readyIps = async (apiPort: number) =>
  (await podsOf(apiPort)).pods.filter((pod) => pod.ready).map((pod) => pod.ip);

/** A process's environment, as the kubelet (the lab) gave it; undefined once it is gone. */
export function environOf(pid: number): Record<string, string> | undefined {
  try {
    return Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
  } catch {
    return undefined;
  }
}

/** The processes on this machine that run a pod of `network`: their POD_IP (the downward API's) is in it. */
export function podProcesses(network: PodNetwork): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => environOf(pid)?.POD_IP?.startsWith(network.prefix) ?? false);
}

/**
 * Ctrl-C in the middle of a lab's run (once its first pod and its clients run): it exits 130, says so, and
 * leaves behind no process it started and no pod of `network`.
 */
export async function interruptMidRun(lab: Running, network: PodNetwork): Promise<void> {
  let started: number[] = [];
  await waitUntil(
    'the pod and the clients run',
    () => (started = childrenOf(lab.child.pid ?? 0)).length >= 3 && podProcesses(network).length > 0,
    30_000,
    100,
  );
  lab.child.kill('SIGINT');
  assert.equal(await exitWithin(lab, 20_000), 130);
  assert.deepEqual(started.filter(alive), [], 'a process the lab started outlived it');
  assert.match(lab.lines.at(-1) ?? '', /interrupted; everything it started has stopped/);
  assert.deepEqual(podProcesses(network), []);
}
