// Made-up recordings for the pure analyses: pods with their timelines, the steps and phases of a
// scenario, and clients' calls — built in a few lines, so that each test says only what it is about.
import type { Call, ClientRecord, PodRecord, Recording, StepRecord } from '../../src/lab/experiment/recording.js';

export const PODS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];

export function pod(ip: string, ready: number, more: Partial<PodRecord> = {}): PodRecord {
  return {
    name: `addr-server-x-${ip.split('.').at(-1)}`,
    ip,
    deployment: 'addr-server',
    replicaSet: 'addr-server-x',
    fault: false,
    created: Math.max(0, ready - 300),
    ready: [ready],
    unready: [],
    stopped: [],
    restarts: [],
    ...more,
  };
}

/** A call every `everyMs` from `from` to `to`, to `pods` in turn, each answered OK in `ms`. */
export function calls(from: number, to: number, pods: readonly string[], everyMs = 100, ms = 1): Call[] {
  return Array.from({ length: Math.floor((to - from) / everyMs) }, (_, i): Call => [
    from + i * everyMs,
    ms,
    pods[i % pods.length] as string,
    'OK',
  ]);
}

export const failed = (t: number, code = 'UNAVAILABLE', pod = '', ms = 1): Call => [t, ms, pod, code];

export function client(name: string, list: Call[], more: Partial<ClientRecord> = {}): ClientRecord {
  return { name, calls: [...list].sort((a, b) => a[0] - b[0]), ...more };
}

const step = (index: number, action: string, from: number, to: number, more: Partial<StepRecord> = {}): StepRecord => ({
  index,
  line: index + 5,
  action,
  text: action,
  from,
  to,
  ...more,
});

/**
 * compare's scale scenario, made up: 1 pod until 10 s, scaled to 5 at 10 s (ready by 11.2 s), counted
 * 12–20 s, the oldest pod killed at 20 s (counted to 30 s), scaled down to 2 at 30 s (counted to 40 s).
 */
export function scaleRecording(clients: ClientRecord[], deployments = ['addr-server']): Recording {
  const ready = [500, 11_000, 11_000, 11_100, 11_200];
  return {
    scenario: { name: 'compare', file: 'compare.yml', description: '' },
    startedAt: 0,
    deployments,
    steps: [
      step(1, 'scale', 0, 0, { replicas: 1 }),
      step(2, 'wait', 0, 500),
      step(3, 'count', 500, 10_000),
      step(4, 'scale', 10_000, 10_000, { replicas: 5 }),
      step(5, 'wait', 10_000, 12_000),
      step(6, 'count', 12_000, 20_000),
      step(7, 'kill', 20_000, 20_000),
      step(8, 'count', 20_000, 30_000),
      step(9, 'scale', 30_000, 30_000, { replicas: 2 }),
      step(10, 'count', 30_000, 40_000),
    ],
    phases: [
      { name: 'before scaling', step: 3, from: 500, to: 10_000 },
      { name: 'scaled up', step: 6, from: 12_000, to: 20_000 },
      { name: 'pod killed', step: 8, from: 20_000, to: 30_000 },
      { name: 'scaled down', step: 10, from: 30_000, to: 40_000 },
    ],
    pods: PODS.map((ip, i) => pod(ip, ready[i] ?? 0)),
    clients,
    events: [],
    seen: {},
    connected: {},
  };
}
