// From what a compare run recorded to the figures per strategy and a verdict on each: a pure function,
// checked on made-up recordings. Times are ms since the run began.
import { jain, podsReached, shares, timeToBalance, type Counts } from './metrics.js';
import { EXPECTED, type Fleet, type Strategy } from './strategies.js';

export type PhaseName = 'before scaling' | 'scaled up' | 'pod killed' | 'scaled down';

export interface Phase {
  name: PhaseName;
  from: number;
  to: number;
}

export interface FleetRecord {
  /** when each pod turned ready (first time) */
  readyAt: Record<string, number>;
  /** when the scale to 5 was commanded, and the ready pods once its rollout was complete */
  scaledAt: number;
  podsAfterRollout: string[];
}

export interface StrategyRecord {
  strategy: Strategy;
  /** why it could not run here (nginx missing, pods without addresses of their own); then nothing else is recorded */
  unavailable?: string;
  replies: Array<[t: number, ip: string]>;
  failures: number[];
  latency?: { p50: number; p99: number } | { unavailable: string };
  cost?: { cpuMs: number; rssMiB: number };
  /** what else it needs that runs in the lab's own process (not in cpuMs and rssMiB) */
  shared?: string;
}

export interface Recording {
  phases: Phase[];
  events: Array<{ t: number; text: string }>;
  fleets: Record<Fleet, FleetRecord>;
  direct?: { p50: number; p99: number };
  strategies: StrategyRecord[];
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
  jain: number | null;
  share: Record<string, number> | null;
  firstCallMs: { median: number; max: number } | null;
  failed: { kill: number; scaleDown: number } | null;
  addedMs: { p50: number; p99: number } | null;
  cpuMs: number | null;
  rssMiB: number | null;
}

const within = (phase: Phase | undefined, t: number) => phase !== undefined && t >= phase.from && t < phase.to;
const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function summarize(recording: Recording): StrategyResult[] {
  const phase = (name: PhaseName) => recording.phases.find((p) => p.name === name);
  const scaledUp = phase('scaled up');
  return recording.strategies.map((record): StrategyResult => {
    const { strategy } = record;
    const base = { name: strategy.name, how: strategy.how, expected: EXPECTED[strategy.expect] };
    if (record.unavailable) {
      return {
        ...base,
        ok: null,
        notes: [record.unavailable],
        podsReached: null,
        jain: null,
        share: null,
        firstCallMs: null,
        failed: null,
        addedMs: null,
        cpuMs: null,
        rssMiB: null,
      };
    }
    const notes: string[] = [];
    const fleet = recording.fleets[strategy.fleet];
    const counts: Counts = {};
    for (const [t, ip] of record.replies) if (within(scaledUp, t)) counts[ip] = (counts[ip] ?? 0) + 1;
    const pods = fleet.podsAfterRollout;
    const reached = podsReached(counts);

    const newPods = Object.fromEntries(
      Object.entries(fleet.readyAt).filter(([ip, at]) => at >= fleet.scaledAt && pods.includes(ip)),
    );
    // Until the kill: a client that reaches an added pod only because its own pod died did not balance.
    const until = scaledUp?.to ?? Infinity;
    const firstReply: Record<string, number> = {};
    for (const [t, ip] of record.replies)
      if (t < until && newPods[ip] !== undefined && firstReply[ip] === undefined) firstReply[ip] = t;
    const balance = timeToBalance(newPods, firstReply);
    if (!balance) notes.push('no call to a pod added by the scale-up before the kill');
    else if (balance.never > 0) notes.push(`${balance.never} added pod${balance.never === 1 ? '' : 's'} never called`);

    const failed = {
      kill: record.failures.filter((t) => within(phase('pod killed'), t)).length,
      scaleDown: record.failures.filter((t) => within(phase('scaled down'), t)).length,
    };

    let addedMs: StrategyResult['addedMs'] = null;
    if (record.latency && 'p50' in record.latency && recording.direct) {
      addedMs = {
        p50: round(record.latency.p50 - recording.direct.p50, 3),
        p99: round(record.latency.p99 - recording.direct.p99, 3),
      };
    } else if (record.latency && 'unavailable' in record.latency) {
      notes.push(`latency: ${record.latency.unavailable}`);
    }
    if (!record.cost) notes.push('cost: no /proc on this machine');
    if (record.shared) notes.push(`not in its cost: ${record.shared}, in the lab's process`);

    const reachedNew = Object.keys(newPods).filter((ip) => (counts[ip] ?? 0) > 0).length;
    const ok = meets(strategy, { reached, reachedNew, pods: pods.length, lostScalingDown: failed.scaleDown });
    if (!ok)
      notes.unshift(
        `not as expected: saw ${reached} of ${pods.length} pods${failed.scaleDown ? `, ${failed.scaleDown} calls lost while scaling down` : ''}`,
      );
    const fairness = jain(counts, pods);
    return {
      ...base,
      ok,
      notes,
      podsReached: reached,
      jain: fairness === null ? null : round(fairness, 3),
      share: Object.fromEntries(Object.entries(shares(counts, pods)).map(([ip, s]) => [ip, round(s, 3)])),
      firstCallMs: balance ? { median: Math.round(balance.median), max: Math.round(balance.max) } : null,
      failed,
      addedMs,
      cpuMs: record.cost?.cpuMs ?? null,
      rssMiB: record.cost?.rssMiB ?? null,
    };
  });
}

/** Whether what a strategy's client saw after the scale-up (pods reached, added pods among them) is what it should. */
function meets(
  strategy: Strategy,
  seen: { reached: number; reachedNew: number; pods: number; lostScalingDown: number },
): boolean {
  switch (strategy.expect) {
    case 'stuck':
      return seen.reached === 1;
    case 'never-new':
      return seen.reached >= 1 && seen.reachedNew === 0;
    case 'reaches-new':
      return seen.reachedNew >= 1;
    case 'every-pod':
      return seen.pods > 0 && seen.reached === seen.pods && seen.lostScalingDown === 0;
  }
}
