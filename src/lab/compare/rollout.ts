// What a rolling update does to each strategy, from the recording: the calls that failed while it rolled
// (from `rollout restart` to the rollout's end), how evenly the calls spread over the new pods right after
// it, how long until the spread was even and stayed so, and how even it was a minute later. Each strategy
// is judged against what its mechanism implies — sources beside each expectation.
import {
  callsIn,
  countsByPod,
  evenAfter,
  failures,
  jain,
  podsReached,
  readyPodsAt,
  type Window,
} from '../experiment/analysis.js';
import type { ClientEntry } from '../experiment/clients.js';
import type { PhaseRecord, Recording } from '../experiment/recording.js';
import { roleOf } from './summary.js';

/**
 * After a rolling update:
 *  - `one-pod`: all calls on one new pod. A connection-level balancer picks a pod per connection; the
 *    client's one HTTP/2 connection moves once, when its pod goes away (the post; kubernetes#38456).
 *  - `spreads-later`: more than one pod a minute later, not necessarily evenly: connections that age
 *    out, or a DNS re-resolution when they drop (grpc-js asks again on a dropped connection, at most
 *    every 30 s: grpc-node#2076), move the client onto new pods one connection at a time.
 *  - `even-now`: the new pods share the calls evenly right after, and no call fails during it: the
 *    strategy follows the endpoints as they change (an EndpointSlice watch, EDS, a proxy that does).
 *  - `every-pod-later`: no call fails, and every new pod gets calls within a minute — not at once, nor
 *    evenly: Linkerd's p2c prefers whichever pod answered faster lately, and a pod with no answer yet
 *    counts as answering in 30 ms (linkerd2 policy-controller BALANCER_DEFAULT_RTT), an estimate that
 *    decays toward 0 with a 10 s time constant while it gets no call (BALANCER_RTT_DECAY; tower's
 *    PeakEwma). Against pods that answer in about 1 ms, the last pod a rollout makes waits some
 *    10 s × ln 30 ≈ 34 s before it wins a comparison.
 */
export type RolloutExpectation = 'one-pod' | 'spreads-later' | 'even-now' | 'every-pod-later';

const EXPECTATIONS: Record<string, RolloutExpectation> = {
  l4: 'one-pod',
  'l4+age': 'spreads-later',
  dns: 'spreads-later',
  'dns+age': 'spreads-later',
  k8s: 'even-now',
  'k8s+outlier': 'even-now',
  xds: 'even-now',
  edge: 'even-now',
  mesh: 'even-now',
  'mesh-p2c': 'every-pod-later',
  'mesh-accrual': 'every-pod-later',
};

const EXPECTED: Record<RolloutExpectation, string> = {
  'one-pod': 'ends on one new pod',
  'spreads-later': 'reaches more than one new pod within a minute, unevenly',
  'even-now': 'even over the new pods right after, no call lost during the rollout',
  'every-pod-later':
    'no call lost during the rollout, every new pod within a minute (a new pod waits for its 30 ms estimate to decay)',
};

/** Jain's index from which a spread counts as even. */
export const EVEN = 0.9;

export interface RolloutResult {
  name: string;
  how: string;
  expected: string;
  ok: boolean | null;
  notes: string[];
  /** calls that failed from the restart to the rollout's end */
  failedDuring: number | null;
  /** the new pods reached right after, of those ready */
  podsReached: number | null;
  pods: number | null;
  jainAfter: number | null;
  /** ms from the rollout's end until the spread was even (Jain ≥ 0.9 in every 2 s) and stayed so; null: never */
  evenAfterMs: number | null;
  /** the last phase's index: the spread a minute later */
  jainLater: number | null;
}

/** The rollout's window (from the restart or env change to the end of the wait after it), and the phases after it. */
export function rolloutWindows(
  recording: Recording,
): { during: Window; after: PhaseRecord; later: PhaseRecord | undefined } | undefined {
  const step = recording.steps.find((s) => s.action === 'rollout' || s.action === 'set-env');
  if (!step) return undefined;
  const wait = recording.steps.find((s) => s.index > step.index && s.action === 'wait');
  const phases = recording.phases.filter((phase) => phase.step > step.index && roleOf(recording, phase) === 'rollout');
  const after = phases[0];
  if (!wait || !after) return undefined;
  // The rollout is complete once the old pods are terminating, but they go on answering through their
  // shutdown delay and drain: a call they drop then is the rollout's too. So the window runs until the
  // last pod that was there before the restart is gone.
  const old = recording.pods.filter((pod) => pod.created < step.from && pod.terminating !== undefined);
  const lastGone = Math.max(wait.to, ...old.map((pod) => pod.gone ?? pod.terminating ?? wait.to));
  return { during: { from: step.from, to: lastGone }, after, later: phases.length > 1 ? phases.at(-1) : undefined };
}

const round = (value: number | null) => (value === null ? null : Number(value.toFixed(3)));

export function summarizeRollout(recording: Recording, entries: readonly ClientEntry[]): RolloutResult[] | undefined {
  const windows = rolloutWindows(recording);
  if (!windows) return undefined;
  const { during, after, later } = windows;
  const end = Math.max(...recording.phases.map((phase) => phase.to));
  return entries.map((entry): RolloutResult => {
    const expect = EXPECTATIONS[entry.judgedAs ?? entry.name] ?? 'even-now';
    const base = { name: entry.name, how: entry.how, expected: EXPECTED[expect] };
    const record = recording.clients.find((client) => client.name === entry.name);
    if (!record || record.unavailable) {
      return {
        ...base,
        ok: null,
        notes: [record?.unavailable ?? 'not run'],
        failedDuring: null,
        podsReached: null,
        pods: null,
        jainAfter: null,
        evenAfterMs: null,
        jainLater: null,
      };
    }
    const deployments = [entry.deployment];
    const pods = readyPodsAt(recording, after.from, deployments);
    const counts = countsByPod(callsIn(record, after));
    const jainAfter = jain(counts, pods);
    const laterPods = later ? readyPodsAt(recording, later.from, deployments) : [];
    const jainLater = later ? jain(countsByPod(callsIn(record, later)), laterPods) : null;
    const reached = pods.filter((ip) => (counts[ip] ?? 0) > 0).length;
    const laterReached = later ? podsReached(countsByPod(callsIn(record, later))) : reached;
    const failedDuring = failures(callsIn(record, during));
    const evenAfterMs = evenAfter(recording, record, { from: during.to, to: end }, deployments, 2000, EVEN);
    const notes: string[] = [];
    let ok: boolean;
    switch (expect) {
      case 'one-pod':
        ok = reached === 1;
        if (!ok) notes.push(`reached ${reached} pods right after the rollout`);
        break;
      case 'spreads-later':
        ok = laterReached > 1;
        if (!ok) notes.push(`still on ${laterReached} pod${laterReached === 1 ? '' : 's'} a minute later`);
        break;
      case 'even-now':
        ok = jainAfter !== null && jainAfter >= EVEN && failedDuring === 0;
        if (jainAfter === null || jainAfter < EVEN)
          notes.push(`Jain ${jainAfter?.toFixed(2) ?? '—'} right after (even: ≥ ${EVEN})`);
        if (failedDuring > 0)
          notes.push(`${failedDuring} call${failedDuring === 1 ? '' : 's'} failed during the rollout`);
        break;
      case 'every-pod-later': {
        const laterOf = later ? laterPods.length : pods.length;
        ok = laterReached === laterOf && laterOf > 0 && failedDuring === 0;
        if (laterReached < laterOf) notes.push(`reached ${laterReached} of ${laterOf} new pods a minute later`);
        if (failedDuring > 0)
          notes.push(`${failedDuring} call${failedDuring === 1 ? '' : 's'} failed during the rollout`);
        break;
      }
    }
    if (!ok) notes.unshift('not as expected');
    return {
      ...base,
      ok,
      notes,
      failedDuring,
      podsReached: reached,
      pods: pods.length,
      jainAfter: round(jainAfter),
      evenAfterMs,
      jainLater: round(jainLater),
    };
  });
}
