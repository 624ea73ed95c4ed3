// `lab compare`'s figures in the benchmark: what each fix for gRPC balancing adds to a call (p50/p99 over
// calling a pod directly, at a fixed rate) and what it costs (CPU, memory), from one compare run; and the
// mesh at saturation — its throughput against calling the pod directly, with h2load.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { h2loadGrpc, median } from './load.js';
import { startProcess } from './servers.js';
import { formatTable } from './table.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

interface Strategy {
  name: string;
  ok: boolean | null;
  notes: string[];
  firstCallMs: { median: number; max: number } | null;
  addedMs: { p50: number; p99: number } | null;
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
        '--aged-pod-cidr',
        '127.250.200.0/24',
        '--json',
        `${dir}/compare.json`,
      ],
      { maxBuffer: 1 << 24 },
    ).catch((error: { code?: number }) => {
      if (error.code !== 1) throw error; // 1: a strategy did not show what it should; the figures stand
    });
    const { strategies, directMs } = JSON.parse(readFileSync(`${dir}/compare.json`, 'utf8')) as {
      strategies: Strategy[];
      directMs: { p50: number; p99: number } | null;
    };
    const cell = (value: number | null | undefined, digits: number, sign = false) =>
      value === null || value === undefined ? '—' : `${sign && value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
    const rows = [
      ['strategy', 'added p50 ms', 'added p99 ms', 'first call ms', 'CPU ms', 'RSS MiB', ''],
      ...strategies.map((s) => [
        s.name,
        cell(s.addedMs?.p50, 3, true),
        cell(s.addedMs?.p99, 3, true),
        s.firstCallMs ? `${s.firstCallMs.median} / ${s.firstCallMs.max}` : '—',
        cell(s.cpuMs, 0),
        cell(s.rssMiB, 0),
        s.ok === null ? (s.notes[0] ?? '') : s.ok ? '' : 'not as expected',
      ]),
    ];
    return [
      'Every fix side by side (lab compare, clients calling every 20 ms):',
      `added latency over calling a pod directly (p50 ${cell(directMs?.p50, 3)} ms, p99 ${cell(directMs?.p99, 3)} ms) at ${rate} calls/s,`,
      `median of ${rounds} rounds of ${seconds} s; CPU and RSS: each client (+ nginx for edge) over the whole run`,
      formatTable(rows),
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The mesh at saturation (h2load, 4 connections × 8 streams): its throughput and latency against the pod's. */
export async function meshSaturation(seconds: number, rounds: number): Promise<string> {
  const lab = await startProcess(
    `${root}out/lab`,
    [
      'up',
      '--replicas',
      '1',
      '--no-mesh-client',
      '--api-port',
      '0',
      '--http-node-port',
      '0',
      '--grpc-node-port',
      '0',
      '--mesh-port',
      '0',
      '--pod-cidr',
      '127.249.201.0/24',
    ],
    /HTTP 127\.0\.0\.1:(?<http>\d+), gRPC :(?<grpc>\d+) · mesh :(?<mesh>\d+) · API :(?<api>\d+)/,
  );
  try {
    const pod = '127.249.201.8:30051';
    for (let i = 0; i < 100; i++) {
      const ready = await h2loadGrpc(`http://${pod}/addr.Addr/GetAddr`, 1, 1, 1, 10).then(
        () => true,
        () => false,
      );
      if (ready) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const paths = [
      ['direct to the pod', pod],
      ['via the mesh (L7)', `127.0.0.1:${lab.listening.mesh}`],
    ] as const;
    const runs = new Map<string, Array<{ rps: number; p50: number; p99: number }>>(paths.map(([name]) => [name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const [name, address] of paths) {
        say(`GetAddr at saturation ${name}, round ${round}/${rounds} (${seconds} s)`);
        const result = await h2loadGrpc(`http://${address}/addr.Addr/GetAddr`, seconds);
        runs.get(name)?.push({ rps: result.rps, p50: result.p50Ms, p99: result.p99Ms });
      }
    }
    const summary = paths.map(([name]) => {
      const list = runs.get(name) ?? [];
      return {
        name,
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
      };
    });
    const [direct, mesh] = summary;
    return [
      `The mesh at saturation (h2load, 4 connections × 8 streams, median of ${rounds} runs of ${seconds} s):`,
      formatTable([
        ['path', 'req/s', 'p50 ms', 'p99 ms'],
        ...summary.map((r) => [r.name, r.rps.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2)]),
      ]),
      `mesh / direct throughput: ${((mesh?.rps ?? NaN) / (direct?.rps ?? NaN)).toFixed(2)}× (goal: ≥ 0.7×)`,
    ].join('\n');
  } finally {
    lab.child.kill('SIGINT');
    await new Promise((resolve) => lab.child.once('exit', resolve));
  }
}
