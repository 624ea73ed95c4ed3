// From what a compare run recorded to the figures per strategy and a verdict on each: pure functions of
// the recording (src/lab/experiment/recording.ts), checked on made-up recordings. The phases are found by
// what came before them (a scale-up and its rollout, a kill, a scale-down), so a scenario of the user's
// that has them gets the same figures.
import {
  balanceHops,
  callsIn,
  countsByPod,
  failures,
  firstCallFigures,
  firstCalls,
  jain,
  podsAdded,
  podsReached,
  readyPodsAt,
  rolloutBefore,
  shares,
  type Hops,
  type Window,
} from '../experiment/analysis.js';
import type { ClientEntry, Expectation } from '../experiment/clients.js';
import type { PhaseRecord, Recording, StepRecord } from '../experiment/recording.js';

export const EXPECTED: Record<Expectation, string> = {
  spread: 'spreads over the pods',
  stuck: 'stays on one pod',
  'never-new': 'never reaches the added pods',
  'reaches-new': 'reaches added pods once connections age out',
  'every-pod': 'reaches all the pods, loses no call while scaling down',
  'cheapest-pods':
    'reaches added pods (a new one may wait for its 30 ms estimate to decay), loses no call while scaling down',
};

/** What a phase follows: the last step before it that changed something. */
export type Role = 'start' | 'scale-up' | 'scale-down' | 'kill' | 'delete' | 'rollout' | 'fault' | 'stop' | 'continue';

export function roleOf(recording: Recording, phase: PhaseRecord): Role {
  let replicas: number | undefined;
  let previous: number | undefined;
  let last: StepRecord | undefined;
  for (const step of recording.steps) {
    if (step.index >= phase.step) break;
    if (step.replicas !== undefined) {
      previous = replicas;
      replicas = step.replicas;
    }
    if (!['wait', 'pause', 'count'].includes(step.action)) last = step;
  }
  switch (last?.action) {
    case undefined:
      return 'start';
    case 'scale':
      return previous !== undefined && (replicas ?? 0) < previous
        ? 'scale-down'
        : previous === undefined || (replicas ?? 0) === previous
          ? 'start'
          : 'scale-up';
    case 'kill':
      return 'kill';
    case 'delete':
      return 'delete';
    case 'rollout':
    case 'set-env':
      return 'rollout';
    case 'fault':
      return 'fault';
    case 'stop':
      return 'stop';
    default:
      return 'continue';
  }
}

export const phaseWith = (recording: Recording, role: Role): PhaseRecord | undefined =>
  recording.phases.find((phase) => roleOf(recording, phase) === role);

export interface AddedLatency {
  /** median over the rounds of (the strategy's − direct), ms */
  p50: number;
  p99: number;
  /** the range over the rounds, ms: a difference inside it may be noise */
  p50Range: [number, number];
  p99Range: [number, number];
}

export interface StrategyResult {
  name: string;
  how: string;
  expected: string;
  /** whether it showed what it is expected to; null: it could not run here */
  ok: boolean | null;
  /** why ok is false, or why a figure is null */
  notes: string[];
  podsReached: number | null;
  /** pods ready once the scale-up's rollout was complete */
  pods: number | null;
  jain: number | null;
  share: Record<string, number> | null;
  firstCallMs: { median: number; max: number } | null;
  /** from an added pod's Ready, each hop to the first call (medians over the added pods, ms) */
  hops: Hops | null;
  failed: { kill: number; scaleDown: number } | null;
  addedMs: AddedLatency | null;
  cpuMs: number | null;
  rssMiB: number | null;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** The figures of the scale scenario, per strategy: pods reached, fairness, first calls, calls lost. */
export function summarize(
  recording: Recording,
  entries: readonly ClientEntry[],
  added: ReadonlyMap<string, AddedLatency | { unavailable: string }> = new Map(),
  /** a run on a cluster: no cost or latency figures, and no note per row for them (the report says why once) */
  onCluster = false,
): StrategyResult[] {
  const scaledUp = phaseWith(recording, 'scale-up');
  const killed = phaseWith(recording, 'kill');
  const down = phaseWith(recording, 'scale-down');
  const rollout = scaledUp ? rolloutBefore(recording, scaledUp) : undefined;
  return entries.map((entry): StrategyResult => {
    const base = { name: entry.name, how: entry.how, expected: EXPECTED[entry.expect] };
    const record = recording.clients.find((client) => client.name === entry.name);
    const empty = {
      podsReached: null,
      pods: null,
      jain: null,
      share: null,
      firstCallMs: null,
      hops: null,
      failed: null,
      addedMs: null,
      cpuMs: null,
      rssMiB: null,
    };
    if (!record || record.unavailable) {
      return { ...base, ok: null, notes: [record?.unavailable ?? 'not run'], ...empty };
    }
    const notes: string[] = [];
    const deployments = [entry.deployment];
    let podsReachedCount: number | null = null;
    let fairness: number | null = null;
    let share: Record<string, number> | null = null;
    let firstCallMs: StrategyResult['firstCallMs'] = null;
    let hops: Hops | null = null;
    let pods: string[] = [];
    let reachedAdded = 0;
    if (scaledUp) {
      const counts = countsByPod(callsIn(record, scaledUp));
      pods = readyPodsAt(recording, scaledUp.from, deployments);
      podsReachedCount = podsReached(counts);
      const index = jain(counts, pods);
      fairness = index === null ? null : round(index, 3);
      share = Object.fromEntries(Object.entries(shares(counts, pods)).map(([ip, s]) => [ip, round(s, 3)]));
      // Up to the kill: a client that reaches an added pod only because its own pod died did not balance.
      const window: Window = { from: rollout?.from ?? scaledUp.from, to: scaledUp.to };
      const added = podsAdded(recording, window, deployments).filter((pod) => pods.includes(pod.ip));
      const first = firstCalls(record, added, scaledUp.to);
      hops = added.length > 0 ? balanceHops(recording, record, added, entry.follows, scaledUp.to).median : null;
      const figures = firstCallFigures(first);
      reachedAdded = added.filter((pod) => (counts[pod.ip] ?? 0) > 0).length;
      if (figures.reached === 0) notes.push('no call to a pod added by the scale-up before the phase ended');
      else {
        firstCallMs = { median: figures.medianMs ?? 0, max: figures.maxMs ?? 0 };
        const never = figures.newPods - figures.reached;
        if (never > 0) notes.push(`${never} added pod${never === 1 ? '' : 's'} never called`);
      }
    }
    const failed =
      killed || down
        ? {
            kill: killed ? failures(callsIn(record, killed)) : 0,
            scaleDown: down ? failures(callsIn(record, down)) : 0,
          }
        : null;
    const latency = added.get(entry.name);
    if (latency && 'unavailable' in latency) notes.push(`latency: ${latency.unavailable}`);
    if (!record.cost && !onCluster) notes.push('cost: no /proc on this machine');
    const ok = scaledUp
      ? meets(entry.expect, {
          reached: podsReachedCount ?? 0,
          reachedAdded,
          pods: pods.length,
          lostScalingDown: failed?.scaleDown ?? 0,
        })
      : null;
    if (ok === false) {
      notes.unshift(
        `not as expected: saw ${podsReachedCount} of ${pods.length} pods${failed?.scaleDown ? `, ${failed.scaleDown} calls lost while scaling down` : ''}`,
      );
    }
    return {
      ...base,
      ok,
      notes,
      podsReached: podsReachedCount,
      pods: scaledUp ? pods.length : null,
      jain: fairness,
      share,
      firstCallMs,
      hops,
      failed,
      addedMs: latency && !('unavailable' in latency) ? latency : null,
      cpuMs: record.cost?.cpuMs ?? null,
      rssMiB: record.cost?.rssMiB ?? null,
    };
  });
}

/** Whether what a strategy's client saw after the scale-up (pods reached, added pods among them) is what it should. */
export function meets(
  expect: Expectation,
  seen: { reached: number; reachedAdded: number; pods: number; lostScalingDown: number },
): boolean {
  switch (expect) {
    case 'spread':
      return seen.reached > 1;
    case 'stuck':
      return seen.reached === 1;
    case 'never-new':
      return seen.reached >= 1 && seen.reachedAdded === 0;
    case 'reaches-new':
      return seen.reachedAdded >= 1;
    case 'every-pod':
      return seen.pods > 0 && seen.reached === seen.pods && seen.lostScalingDown === 0;
    case 'cheapest-pods':
      return seen.reachedAdded >= 1 && seen.lostScalingDown === 0;
  }
}
