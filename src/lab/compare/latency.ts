// What each strategy adds to a call: `lab probe` per strategy (a process of its own, with the
// strategy's target and environment) and directly against a pod, in rounds that take turns, so that
// something else the machine does at one moment spoils one round of one path, not a whole figure: the
// median over the rounds of each round's p50 and p99.
import { spawn } from 'node:child_process';
import { percentile } from '../../common/statistics.js';
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

export type Latency = { p50: number; p99: number } | { unavailable: string };

export async function measureLatency(paths: LatencyPath[], options: LatencyOptions): Promise<Map<string, Latency>> {
  const runs = new Map<string, ProbeResult[]>(paths.map((path) => [path.name, []]));
  const failures = new Map<string, string>();
  for (let round = 1; round <= options.rounds && !options.signal.aborted; round++) {
    for (const path of paths) {
      options.progress(`latency, round ${round}/${options.rounds}: ${path.name} at ${options.rate} calls/s …`);
      const result = await probe(path, options);
      if ('p50' in result) runs.get(path.name)?.push(result);
      else failures.set(path.name, result.unavailable);
    }
  }
  return new Map(
    paths.map(({ name }): [string, Latency] => {
      const list = runs.get(name) ?? [];
      if (list.length === 0) return [name, { unavailable: failures.get(name) ?? 'not measured' }];
      return [
        name,
        {
          p50: percentile(
            list.map((r) => r.p50),
            50,
          ),
          p99: percentile(
            list.map((r) => r.p99),
            50,
          ),
        },
      ];
    }),
  );
}

async function probe(path: LatencyPath, options: LatencyOptions): Promise<ProbeResult | { unavailable: string }> {
  const child = spawn(
    process.execPath,
    [
      options.lab,
      'probe',
      path.target,
      '--lb',
      path.lb,
      '--rate',
      String(options.rate),
      '--seconds',
      String(options.seconds),
    ],
    { env: { ...process.env, ...path.env }, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  child.on('error', () => undefined); // aborted: the close below still comes
  const timer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve)).finally(() =>
    clearTimeout(timer),
  );
  try {
    if (code === 0) return JSON.parse(out) as ProbeResult;
  } catch {
    // not JSON: said below
  }
  return { unavailable: `the probe failed: ${(err.trim().split('\n').at(-1) ?? '') || `exit ${code}`}` };
}
