// Everything the lab prints about a run, computed from its recording after the run: pure functions of
// calls and pod timelines, so that any recording — a real one, or one made up in a test — gives the same
// figures whoever asks. Times are ms since the run began. Percentiles are the kit's one definition
// (nearest rank: src/common/statistics.ts).
import { compareIps } from '../../common/ip.js';
import { percentile } from '../../common/statistics.js';
import type { Call, ClientRecord, PhaseRecord, PodRecord, Recording } from './recording.js';

/** Calls per pod IP. */
export type Counts = Record<string, number>;

export interface Window {
  from: number;
  to: number;
}

export const OK = 'OK';
export const isOk = (call: Call): boolean => call[3] === OK;

/** The calls a client started in [from, to). */
export const callsIn = (client: ClientRecord, window: Window): Call[] =>
  client.calls.filter(([t]) => t >= window.from && t < window.to);

/** Answered calls per pod. */
export function countsByPod(calls: readonly Call[]): Counts {
  const counts: Counts = {};
  for (const call of calls) if (isOk(call) && call[2]) counts[call[2]] = (counts[call[2]] ?? 0) + 1;
  return counts;
}

export const failures = (calls: readonly Call[]): number => calls.filter((call) => !isOk(call)).length;

/** Pods with at least one call. */
export const podsReached = (counts: Counts): number => Object.values(counts).filter((n) => n > 0).length;

/**
 * Jain's fairness index over `pods`: (Σx)² / (n·Σx²). 1 when every pod got the same number of calls,
 * 1/n when one pod got them all; a pod with no call counts as 0. null when there is nothing to judge.
 */
export function jain(counts: Counts, pods: readonly string[]): number | null {
  const values = pods.map((pod) => counts[pod] ?? 0);
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  if (values.length === 0 || squares === 0) return null;
  return (sum * sum) / (values.length * squares);
}

/** Each pod's share of the calls (0..1), for every pod in `pods`. */
export function shares(counts: Counts, pods: readonly string[]): Record<string, number> {
  const total = pods.reduce((sum, pod) => sum + (counts[pod] ?? 0), 0);
  return Object.fromEntries(pods.map((pod) => [pod, total === 0 ? 0 : (counts[pod] ?? 0) / total]));
}

export const phaseNamed = (recording: Recording, name: string): PhaseRecord | undefined =>
  recording.phases.find((phase) => phase.name === name);

/** Whether a pod was ready (in the endpoints) at time t. */
export function readyAt(pod: PodRecord, t: number): boolean {
  const ups = pod.ready.filter((at) => at <= t);
  if (ups.length === 0) return false;
  const lastUp = Math.max(...ups);
  const downs = [
    ...pod.unready,
    ...(pod.terminating === undefined ? [] : [pod.terminating]),
    ...(pod.gone === undefined ? [] : [pod.gone]),
  ];
  return !downs.some((at) => at >= lastUp && at <= t);
}

/** The IPs of the pods of `deployments` ready at time t, in the one IP order. */
export function readyPodsAt(recording: Recording, t: number, deployments?: readonly string[]): string[] {
  return recording.pods
    .filter((pod) => (!deployments || deployments.includes(pod.deployment)) && readyAt(pod, t))
    .map((pod) => pod.ip)
    .sort(compareIps);
}

/** The pods of `deployments` that first turned ready within the window: the ones a scale-up or rollout added. */
export const podsAdded = (recording: Recording, window: Window, deployments?: readonly string[]): PodRecord[] =>
  recording.pods.filter((pod) => {
    const first = pod.ready[0];
    return (
      (!deployments || deployments.includes(pod.deployment)) &&
      first !== undefined &&
      first >= window.from &&
      first < window.to
    );
  });

/**
 * For each pod, the ms from its (first) Ready to the client's first answered call from it, started before
 * `until`; null for a pod it never reached by then. A call that went to a pod before its Ready (it cannot,
 * but clocks differ by a millisecond) counts as 0.
 */
export function firstCalls(
  client: ClientRecord,
  pods: readonly PodRecord[],
  until: number,
): Record<string, number | null> {
  const first = new Map<string, number>();
  for (const [t, , pod, code] of client.calls) if (code === OK && t < until && !first.has(pod)) first.set(pod, t);
  return Object.fromEntries(
    pods.map((pod) => {
      const at = first.get(pod.ip);
      const ready = pod.ready[0] ?? 0;
      return [pod.ip, at === undefined ? null : Math.round(Math.max(0, at - ready))];
    }),
  );
}

export interface FirstCallFigures {
  newPods: number;
  reached: number;
  medianMs: number | null;
  maxMs: number | null;
}

/** Median and max over the pods that got a call, and how many did. */
export function firstCallFigures(firstCallMs: Record<string, number | null>): FirstCallFigures {
  const delays = Object.values(firstCallMs).filter((ms): ms is number => ms !== null);
  return {
    newPods: Object.keys(firstCallMs).length,
    reached: delays.length,
    medianMs: delays.length === 0 ? null : percentile(delays, 50),
    maxMs: delays.length === 0 ? null : Math.max(...delays),
  };
}

export interface Latency {
  p50: number;
  p99: number;
  p999: number;
}

/** Latency percentiles of the calls (answered or not: a call that failed at its deadline took that long). */
export function latency(calls: readonly Call[]): Latency | null {
  if (calls.length === 0) return null;
  const ms = calls.map((call) => call[1]);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), p999: percentile(ms, 99.9) };
}

/** The share of calls answered OK within `deadlineMs`: what a caller with that deadline got. */
export function successWithin(calls: readonly Call[], deadlineMs: number): number | null {
  if (calls.length === 0) return null;
  return calls.filter((call) => isOk(call) && call[1] <= deadlineMs).length / calls.length;
}

/** The steps' window: from a step's start to the end of another (both by index). */
export function stepWindow(recording: Recording, fromIndex: number, toIndex: number): Window | undefined {
  const from = recording.steps.find((step) => step.index === fromIndex);
  const to = recording.steps.find((step) => step.index === toIndex);
  return from && to ? { from: from.from, to: to.to } : undefined;
}

/**
 * How long a scale-up's rollout took for the phase that follows it: from the last `scale` step before the
 * phase's count step to the end of the `wait` between them. undefined when no scale-up precedes it.
 */
export function rolloutBefore(recording: Recording, phase: PhaseRecord): Window | undefined {
  const before = recording.steps.filter((step) => step.index < phase.step);
  const scale = [...before]
    .reverse()
    .find((step) => step.action === 'scale' || step.action === 'rollout' || step.action === 'set-env');
  if (!scale) return undefined;
  const wait = before.find((step) => step.index > scale.index && step.action === 'wait');
  return wait ? { from: scale.from, to: wait.to } : undefined;
}

/** Calls in windows of `binMs`: the OK calls per pod, and the failures, per bin from `from`. */
export function bins(
  calls: readonly Call[],
  window: Window,
  binMs: number,
): Array<{ counts: Counts; failures: number }> {
  const count = Math.max(1, Math.ceil((window.to - window.from) / binMs));
  const out = Array.from({ length: count }, (): { counts: Counts; failures: number } => ({ counts: {}, failures: 0 }));
  for (const call of calls) {
    const [t, , pod] = call;
    if (t < window.from || t >= window.to) continue;
    const bin = out[Math.min(count - 1, Math.floor((t - window.from) / binMs))];
    if (!bin) continue;
    if (isOk(call)) bin.counts[pod] = (bin.counts[pod] ?? 0) + 1;
    else bin.failures += 1;
  }
  return out;
}

/**
 * When the spread over the pods ready at each moment became even and stayed so: the first of the whole
 * `binMs` bins of the window from which every bin's Jain's index over the ready pods is at least
 * `threshold`. A bin with fewer than two calls per ready pod tells nothing about evenness and is passed
 * over. ms from the window's start; null when it never does (or there were no calls to judge).
 */
export function evenAfter(
  recording: Recording,
  client: ClientRecord,
  window: Window,
  deployments: readonly string[],
  binMs = 2000,
  threshold = 0.9,
): number | null {
  const whole = Math.floor((window.to - window.from) / binMs);
  if (whole < 1) return null;
  const series = bins(client.calls, { from: window.from, to: window.from + whole * binMs }, binMs);
  let since: number | null = null;
  let judged = false;
  series.forEach((bin, i) => {
    const pods = readyPodsAt(recording, window.from + (i + 1) * binMs - 1, deployments);
    const calls = Object.values(bin.counts).reduce((a, b) => a + b, 0) + bin.failures;
    if (pods.length === 0 || calls < 2 * pods.length) return;
    judged = true;
    const index = jain(bin.counts, pods);
    if (index === null || index < threshold) since = null;
    else since ??= i * binMs;
  });
  return judged ? since : null;
}

/** How long a window's end must pass with no call to the bad pods before `avoidedAfter` says they were left. */
export const QUIET_MS = 2000;

/**
 * When the client stopped calling the bad pods: from `since` (the fault's start) to its last call that
 * reached one of them (answered or failed by it: a failed call carries the pod that failed it where the
 * client knows it); 0 when it never called one, null when it still did in the window's last `quietMs`.
 */
export function avoidedAfter(
  calls: readonly Call[],
  badIps: ReadonlySet<string>,
  since: number,
  window: Window,
  quietMs = QUIET_MS,
): number | null {
  let last: number | undefined;
  for (const [t, , pod] of calls) if (t >= since && t < window.to && badIps.has(pod)) last = t;
  if (last === undefined) return 0;
  if (last >= window.to - quietMs) return null;
  return Math.round(last - since);
}

/**
 * The calls that went to the bad pods, as far as the client can tell: those they answered, and those that
 * failed the way a bad pod makes a call fail (`failedAs`: a slow pod only by keeping it past its deadline,
 * DEADLINE_EXCEEDED; a failing pod with its status) — a failed call names no pod, and in the fault
 * scenarios the healthy pods answer every call in milliseconds.
 */
export const badPodCalls = (
  calls: readonly Call[],
  badIps: ReadonlySet<string>,
  failedAs: (code: string) => boolean = (code) => code !== OK,
): Call[] => calls.filter(([, , pod, code]) => badIps.has(pod) || (pod === '' && code !== OK && failedAs(code)));

/** Each hop from a pod's Ready to a strategy's first call to it: ms after the Ready, null where not seen. */
export interface Hops {
  /** the pod in its Service's EndpointSlice, ready */
  published: number | null;
  /** the part the strategy follows knew of it: kube-proxy's endpoints, a DNS answer, an xDS push, … */
  source: number | null;
  /** the strategy's proxy had a connection up to it (proxies only) */
  connected: number | null;
  /** the client's first answered call from it */
  firstCall: number | null;
}

/**
 * The hops, per pod, from each pod's (first) Ready, for a strategy that follows `follows`, up to `until`;
 * and their medians over the pods. A hop seen before the Ready (a slice can be written in the same
 * instant) counts as 0.
 */
export function balanceHops(
  recording: Recording,
  client: ClientRecord,
  pods: readonly PodRecord[],
  follows: { service: string; part: string; proxy?: string },
  until: number,
): { perPod: Record<string, Hops>; median: Hops } {
  const first = firstCalls(client, pods, until);
  const after = (ready: number, at: number | undefined) =>
    at === undefined ? null : Math.round(Math.max(0, at - ready) * 10) / 10;
  const perPod: Record<string, Hops> = {};
  for (const pod of pods) {
    const ready = pod.ready[0] ?? 0;
    perPod[pod.ip] = {
      published: after(ready, recording.seen[`slice:${follows.service}`]?.[pod.ip]),
      source: after(ready, recording.seen[follows.part]?.[pod.ip]),
      connected: follows.proxy ? after(ready, recording.connected[follows.proxy]?.[pod.ip]) : null,
      firstCall: first[pod.ip] ?? null,
    };
  }
  const med = (pick: (hops: Hops) => number | null): number | null => {
    const values = Object.values(perPod)
      .map(pick)
      .filter((v): v is number => v !== null);
    return values.length === 0 ? null : percentile(values, 50);
  };
  return {
    perPod,
    median: {
      published: med((h) => h.published),
      source: med((h) => h.source),
      connected: med((h) => h.connected),
      firstCall: med((h) => h.firstCall),
    },
  };
}
