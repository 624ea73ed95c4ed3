// What each strategy adds to a call: `lab probe` per strategy (a process of its own, with the
// strategy's target and environment) and directly against a pod, in rounds that take turns, so that
// something else the machine does at one moment spoils one round of one path, not a whole figure. Each
// round's difference to the direct path in the same round is one sample; the figure is their median, with
// their range beside it: a difference whose range holds 0 is within the noise, and is said so.
import { Supervised } from '../../common/supervised.js';
import { median } from '../../common/statistics.js';
import type { AddedLatency } from './summary.js';
import type { ProbeResult } from './probe.js';

export interface LatencyPath {
  name: string;
  target: string;
  lb: string;
  env?: Record<string, string>;
}

export interface LatencyOptions {
  /** out/lab, for its `probe` command */
  lab: string;
  rate: number;
  seconds: number;
  rounds: number;
  signal: AbortSignal;
  progress: (line: string) => void;
}

export type Rounds = Array<ProbeResult | undefined>;

/** Runs every path once per round, in turn; a failed run is `undefined` in its round (the reason kept). */
export async function measureRounds(
  paths: readonly LatencyPath[],
  options: LatencyOptions,
): Promise<{ rounds: Map<string, Rounds>; failures: Map<string, string> }> {
  const rounds = new Map<string, Rounds>(paths.map((path) => [path.name, []]));
  const failures = new Map<string, string>();
  for (let round = 1; round <= options.rounds && !options.signal.aborted; round++) {
    for (const path of paths) {
      if (options.signal.aborted) break;
      options.progress(`latency, round ${round}/${options.rounds}: ${path.name} at ${options.rate} calls/s …`);
      const result = await probe(path, options);
      if ('p50' in result) rounds.get(path.name)?.push(result);
      else {
        rounds.get(path.name)?.push(undefined);
        failures.set(path.name, result.unavailable);
      }
    }
  }
  return { rounds, failures };
}

/** The strategy's added latency over `direct`, round by round: median and range. */
export function addedOver(direct: Rounds, strategy: Rounds): AddedLatency | undefined {
  const p50: number[] = [];
  const p99: number[] = [];
  strategy.forEach((result, i) => {
    const base = direct[i];
    if (!result || !base) return;
    p50.push(result.p50 - base.p50);
    p99.push(result.p99 - base.p99);
  });
  if (p50.length === 0) return undefined;
  const r = (value: number) => Number(value.toFixed(3));
  return {
    p50: r(median(p50)),
    p99: r(median(p99)),
    p50Range: [r(Math.min(...p50)), r(Math.max(...p50))],
    p99Range: [r(Math.min(...p99)), r(Math.max(...p99))],
  };
}

/**
 * "+0.41 (0.30–0.52)": the median difference and its range over the rounds; "≈ 0 (±0.35)" when the range
 * holds 0 — the difference is inside the noise. A path cannot cost less than calling the pod directly, so a
 * range wholly below 0 is noise in the direct rounds, not a finding: "≈ 0 (−0.52–−0.30)", in order.
 */
export function addedText(median: number, [min, max]: [number, number]): string {
  if (min <= 0 && max >= 0) return `≈ 0 (±${Math.max(Math.abs(min), Math.abs(max)).toFixed(2)})`;
  if (max < 0) return `≈ 0 (−${Math.abs(min).toFixed(2)}–−${Math.abs(max).toFixed(2)})`;
  return `+${median.toFixed(2)} (${min.toFixed(2)}–${max.toFixed(2)})`;
}

async function probe(path: LatencyPath, options: LatencyOptions): Promise<ProbeResult | { unavailable: string }> {
  const args = [
    options.lab,
    'probe',
    path.target,
    '--lb',
    path.lb,
    '--rate',
    String(options.rate),
    '--seconds',
    String(options.seconds),
  ];
  const child = new Supervised(process.execPath, args, { env: { ...process.env, ...path.env } });
  let out = '';
  let err = '';
  child.on('line', (line, stream) => {
    if (stream === 'stdout') out += line;
    else err = line;
  });
  const abort = () => void child.stop(1000);
  options.signal.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(() => void child.stop(0, 'SIGKILL'), (options.seconds + 30) * 1000);
  const exit = await child.exited.finally(() => {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', abort);
  });
  try {
    if (exit.code === 0) return JSON.parse(out) as ProbeResult;
  } catch {
    // not JSON: said below
  }
  return { unavailable: `the probe failed: ${err.trim() || `exit ${exit.code ?? exit.signal}`}` };
}
