// npm run bench: addr-server under load from h2load (gRPC GetAddr) and wrk (HTTP /addr), next to the
// smallest grpc-js server and express app answering the same calls. Prints figures; asserts nothing.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { command } from '../src/common/cli.js';
import { onShutdown } from '../src/common/shutdown.js';
import { compareFigures } from './compare.js';
import { firstCallFigures } from './first-calls.js';
import { labFigures } from './lab.js';
import { meshFigures } from './mesh.js';
import { h2loadGrpc, median, missingTools, wrkHttp, type LoadResult } from './load.js';
import { cpuMs, peakRssMiB, startProcess, stopAll, type Started } from './servers.js';
import { formatTable } from './table.js';

const args = command('bench', '$0 [options]\n\nMeasures addr-server against a bare baseline. Needs h2load and wrk.')
  .options({
    seconds: { type: 'number', default: 5, describe: 'length of each measured run' },
    rounds: { type: 'number', default: 3, describe: 'runs per server and protocol (the median is shown)' },
    rate: { type: 'number', default: 200, describe: 'calls per second for the latency comparison through the lab' },
  })
  .check((argv) => {
    if (!(argv.seconds >= 1 && argv.seconds <= 120)) throw new Error('--seconds must be from 1 to 120');
    if (!(Number.isInteger(argv.rounds) && argv.rounds >= 1 && argv.rounds <= 20))
      throw new Error('--rounds must be from 1 to 20');
    if (!(Number.isInteger(argv.rate) && argv.rate >= 1 && argv.rate <= 5000))
      throw new Error('--rate must be from 1 to 5000');
    return true;
  })
  .parseSync();

onShutdown(() => {
  stopAll();
  process.exit(130);
});

const missing = await missingTools();
if (missing.length > 0) {
  console.error(`bench: the load generators are missing:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ours = await startProcess(
  here('../out/server'),
  ['--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0'],
  /http=(?<http>[\d.]+:\d+) grpc=(?<grpc>[\d.]+:\d+)/,
  { POD_IP: '10.1.0.8' },
);
const baselineGrpc = await startProcess(process.execPath, [here('baseline/grpc.mjs')], /grpc=(?<grpc>[\d.]+:\d+)/);
const baselineHttp = await startProcess(process.execPath, [here('baseline/http.mjs')], /http=(?<http>[\d.]+:\d+)/);

interface Row extends LoadResult {
  cpuUsPerRequest: number;
}

async function measure(server: Started, load: () => Promise<LoadResult>): Promise<Row> {
  const pid = server.child.pid as number;
  const cpuBefore = cpuMs(pid);
  const result = await load();
  // CPU over the whole run (warm-up included) divided by the requests counted: a slight over-estimate, alike for both.
  return { ...result, cpuUsPerRequest: ((cpuMs(pid) - cpuBefore) * 1000) / result.requests };
}

const cases = [
  {
    name: 'gRPC GetAddr (h2load)',
    run: (server: Started) => h2loadGrpc(`http://${server.listening.grpc}/addr.Addr/GetAddr`, args.seconds),
    baseline: baselineGrpc,
  },
  {
    name: 'HTTP /addr (wrk)',
    run: (server: Started) => wrkHttp(`http://${server.listening.http}/addr`, args.seconds),
    baseline: baselineHttp,
  },
];

const table: string[][] = [['calls', 'server', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'peak RSS MiB', 'ours/base']];
for (const { name, run, baseline } of cases) {
  const runs: Record<'baseline' | 'ours', Row[]> = { baseline: [], ours: [] };
  for (let round = 1; round <= args.rounds; round++) {
    for (const [label, server] of [
      ['baseline', baseline],
      ['ours', ours],
    ] as const) {
      process.stderr.write(`bench: ${name}, ${label}, round ${round}/${args.rounds} (${args.seconds} s)\n`);
      runs[label].push(await measure(server, () => run(server)));
    }
  }
  const summary = (rows: Row[]) => ({
    rps: median(rows.map((r) => r.rps)),
    p50: median(rows.map((r) => r.p50Ms)),
    p99: median(rows.map((r) => r.p99Ms)),
    cpu: median(rows.map((r) => r.cpuUsPerRequest)),
  });
  const base = summary(runs.baseline);
  const mine = summary(runs.ours);
  for (const [label, s, server] of [
    ['baseline', base, baseline],
    ['addr-server', mine, ours],
  ] as const) {
    table.push([
      name,
      label,
      s.rps.toFixed(0),
      s.p50.toFixed(2),
      s.p99.toFixed(2),
      s.cpu.toFixed(0),
      peakRssMiB(server.child.pid as number).toFixed(0),
      label === 'baseline' ? '' : (mine.rps / base.rps).toFixed(2),
    ]);
  }
}

console.log(`\n${formatTable(table, 2)}`);
console.log(
  `\n${args.rounds} runs of ${args.seconds} s each, median shown; load generator and server share this machine (${cpus().length} CPUs).`,
);
stopAll();

console.log(`\nThe lab\n${await labFigures(args.seconds, args.rounds, args.rate)}`);
console.log(`\n${await firstCallFigures(args.rounds)}`);
console.log(`\n${await meshFigures(args.seconds, args.rounds, args.rate)}`);
console.log(`\n${await compareFigures(args.seconds, args.rounds, args.rate)}`);
