// How soon the balancers that follow the endpoints use a new pod, and what the k8s:/// resolver costs
// client-grpc at start-up. Figures, not assertions.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median } from './load.js';
import { startLabUp, track } from './servers.js';
import { formatTable as table } from './table.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);
const ephemeral = ['--http-node-port', '0', '--grpc-node-port', '0', '--mesh-port', '0'];

interface RunReport {
  phases: Array<{
    name: string;
    clients: Array<{ label: string; firstCall?: { pods: Record<string, number | null> } }>;
  }>;
}

/** From each new pod's Ready to its first call, per L7 client, over `rounds` short runs of `out/lab`. */
async function firstCalls(rounds: number, intervalMs: number): Promise<string[][]> {
  const delays = new Map<string, number[]>();
  for (let round = 1; round <= rounds; round++) {
    say(`out/lab with calls every ${intervalMs} ms, round ${round}/${rounds}`);
    const dir = mkdtempSync(`${tmpdir()}/grpc-lb-bench-`);
    try {
      await promisify(execFile)(
        `${root}out/lab`,
        [
          '--phase-seconds',
          '2',
          '--interval',
          String(intervalMs),
          ...ephemeral,
          '--pod-cidr',
          '127.253.0.0/24',
          '--json',
          `${dir}/report.json`,
        ],
        { maxBuffer: 1 << 24 },
      );
      const report = JSON.parse(readFileSync(`${dir}/report.json`, 'utf8')) as RunReport;
      for (const client of report.phases.find((p) => p.name === 'scaled up')?.clients ?? []) {
        for (const ms of Object.values(client.firstCall?.pods ?? {})) {
          if (ms !== null) delays.set(client.label, [...(delays.get(client.label) ?? []), ms]);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return [...delays].map(([label, ms]) => [
    label,
    String(ms.length),
    median(ms).toFixed(0),
    Math.max(...ms).toFixed(0),
  ]);
}

/** Milliseconds from spawning client-grpc to its exit after one reply. */
function oneCall(target: string, env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = track(
    spawn(`${root}out/client-grpc`, [target, '--count', '1'], { env: { ...process.env, ...env }, stdio: 'ignore' }),
  );
  return new Promise((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`client-grpc ${target} exited ${code}`)),
    );
  });
}

async function startUp(rounds: number): Promise<string[][]> {
  const kubeconfig = `${mkdtempSync(`${tmpdir()}/grpc-lb-bench-`)}/kubeconfig`;
  const lab = await startLabUp('127.253.1.0/24', ['--no-mesh-client', '--kubeconfig', kubeconfig]);
  try {
    await oneCall(`127.0.0.1:${lab.ready.grpc}`, {}); // the pod is ready once this answers
    const rows: string[][] = [];
    for (const [name, target, env] of [
      ['plain target (127.0.0.1:NodePort)', `127.0.0.1:${lab.ready.grpc}`, {}],
      ['k8s:///addr-server.grpc-lb:grpc', 'k8s:///addr-server.grpc-lb:grpc', { KUBECONFIG: kubeconfig }],
    ] as const) {
      say(`client-grpc ${target} --count 1, ${rounds} times`);
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) times.push(await oneCall(target, env));
      rows.push([name, median(times).toFixed(0), Math.min(...times).toFixed(0), Math.max(...times).toFixed(0)]);
    }
    return rows;
  } finally {
    lab.child.kill('SIGINT');
    await new Promise((resolve) => lab.child.once('exit', resolve));
    rmSync(kubeconfig, { force: true });
  }
}

export async function firstCallFigures(rounds: number): Promise<string> {
  const calls = await firstCalls(rounds, 20);
  const starts = await startUp(10);
  return [
    `From a new pod's Ready to its first call (calls every 20 ms; ${rounds} runs, 4 new pods each):`,
    table([['client', 'pods', 'median ms', 'max ms'], ...calls]),
    '',
    'client-grpc from start to its first reply and exit (--count 1, 10 runs):',
    table([['target', 'median ms', 'min ms', 'max ms'], ...starts]),
  ].join('\n');
}
