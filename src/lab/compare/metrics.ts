// The figures `lab compare` gives each strategy, from what its client saw. Pure functions of counts and
// timelines, so that they can be checked on made-up data.
import { percentile } from '../../common/statistics.js';

/** Calls per pod IP. */
export type Counts = Record<string, number>;

/**
 * Jain's fairness index over `pods`: (Σx)² / (n·Σx²). 1 when every pod got the same number of calls,
 * 1/n when one pod got them all; a pod with no call counts as 0. null when there is nothing to judge.
 */
export function jain(counts: Counts, pods: string[]): number | null {
  const values = pods.map((pod) => counts[pod] ?? 0);
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  if (values.length === 0 || squares === 0) return null;
  return (sum * sum) / (values.length * squares);
}

/** Each pod's share of the calls (0..1), for every pod in `pods`. */
export function shares(counts: Counts, pods: string[]): Record<string, number> {
  const total = pods.reduce((sum, pod) => sum + (counts[pod] ?? 0), 0);
  return Object.fromEntries(pods.map((pod) => [pod, total === 0 ? 0 : (counts[pod] ?? 0) / total]));
}

/** Pods with at least one call. */
export const podsReached = (counts: Counts): number => Object.values(counts).filter((n) => n > 0).length;

export interface TimeToBalance {
  /** ms from a new pod's Ready to the client's first call to it: median and max over the new pods */
  median: number;
  max: number;
  /** new pods that got no call at all before `until` */
  never: number;
}

/**
 * From each new pod's Ready (ms, one clock) to the first reply the client got from it. A pod never
 * reached counts in `never`, not in the times. null when no new pod was reached.
 */
export function timeToBalance(
  readyAt: Record<string, number>,
  firstReplyAt: Record<string, number>,
): TimeToBalance | null {
  const delays: number[] = [];
  let never = 0;
  for (const [pod, ready] of Object.entries(readyAt)) {
    const first = firstReplyAt[pod];
    if (first === undefined) never += 1;
    else delays.push(Math.max(0, first - ready));
  }
  if (delays.length === 0) return null;
  return { median: percentile(delays, 50), max: Math.max(...delays), never };
}
