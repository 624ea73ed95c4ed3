// `lab compare`'s figures in the benchmark: what each fix for gRPC balancing adds to a call (p50/p99 over
// calling a pod directly, at a fixed rate) and what it costs (CPU, memory), from one compare run. (The
// mesh at saturation: bench/mesh.ts.)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { addedText } from '../src/lab/compare/latency.js';
import { formatTable } from './table.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

interface Strategy {
  name: string;
  ok: boolean | null;
  notes: string[];
  firstCallMs: { median: number; max: number } | null;
  addedMs: { p50: number; p99: number; p50Range: [number, number]; p99Range: [number, number] } | null;
  cpuMs: number | null;
  rssMiB: number | null;
}

/**
 * One `lab compare` run (20 s phases, clients calling every 20 ms so that a new pod's first call is
 * timed finely; latency probes of `seconds` at `rate`, `rounds` rounds): its figures as a table.
 */
export async function compareFigures(seconds: number, rounds: number, rate: number): Promise<string> {
  const dir = mkdtempSync(`${tmpdir()}/grpc-lb-bench-compare-`);
  try {
    say(`lab compare (about ${Math.round(4 * 20 + 10 + 10 * rounds * (seconds + 1))} s)`);
    await exec(
      `${root}out/lab`,
      [
        'compare',
        '--interval',
        '20',
        '--latency-seconds',
        String(seconds),
        '--latency-rounds',
        String(rounds),
        '--latency-rate',
        String(rate),
        '--pod-cidr',
        '127.249.200.0/24',
        '--json',
        `${dir}/compare.json`,
      ],
      { maxBuffer: 1 << 24 },
    ).catch((error: { code?: number }) => {
      if (error.code !== 1) throw error; // 1: a strategy did not show what it should; the figures stand
    });
    const { strategies } = JSON.parse(readFileSync(`${dir}/compare.json`, 'utf8')) as { strategies: Strategy[] };
    const cell = (value: number | null | undefined, digits: number, sign = false) =>
      value === null || value === undefined ? '—' : `${sign && value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
    const rows = [
      ['strategy', 'added p50 ms', 'added p99 ms', 'first call ms', 'CPU ms', 'RSS MiB', ''],
      ...strategies.map((s) => [
        s.name,
        s.addedMs ? addedText(s.addedMs.p50, s.addedMs.p50Range) : '—',
        s.addedMs ? addedText(s.addedMs.p99, s.addedMs.p99Range) : '—',
        s.firstCallMs ? `${s.firstCallMs.median} / ${s.firstCallMs.max}` : '—',
        cell(s.cpuMs, 0),
        cell(s.rssMiB, 0),
        s.ok === null ? (s.notes[0] ?? '') : s.ok ? '' : 'not as expected',
      ]),
    ];
    return [
      'Every fix side by side (lab compare, clients calling every 20 ms):',
      `added latency over calling a pod directly at ${rate} calls/s: the median of ${rounds} rounds of ${seconds} s (their range;`,
      `≈ 0 when it holds 0); CPU and RSS: each client (+ nginx for edge) over the whole run`,
      formatTable(rows),
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
