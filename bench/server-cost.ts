// What addr-server costs next to the bare library answering the same calls (bench/baseline: the smallest
// grpc-js server, the smallest express app): the CPU time of the server process per answered call, read
// from /proc, over many rounds, as a ratio with its spread — never one run. CPU time per call holds up on
// a busy machine far better than throughput does, but not fully: other work slows every instruction, so
//   - side by side: both servers on one CPU, loaded at the same time, see the same machine; their ratio
//     is the steadiest figure (two identical servers, on a busy 2-CPU machine: 0.96–1.02);
//   - interleaved: ours, bare, ours, bare …, each loaded alone, is the classic way; its spread is wider;
//   - both servers run with the same fixed V8 young generation (semi-spaces of 16 MiB): left to size
//     itself, it settled differently in each process, and two identical servers differed by up to 30 %.
// Servers run on the last CPU and the load generators on the others, where taskset is there.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseListening, parseLogfmt } from '../src/common/output.js';
import { median, spread, type Spread } from '../src/common/statistics.js';
import { h2loadGrpc, wrkHttp, type Generator, type LoadResult } from './load.js';
import { cpuMs, startProcess, type Started } from './servers.js';
import { formatTable } from './table.js';

/** Where a server under test listens: host:port per protocol it serves. */
interface Addresses {
  grpc?: string;
  http?: string;
}

/** addr-server's, from its listening line. */
function ourAddresses(line: string): Addresses | undefined {
  const listening = parseListening(line);
  return (
    listening && {
      grpc: `${listening.grpc.host}:${listening.grpc.port}`,
      http: `${listening.http.host}:${listening.http.port}`,
    }
  );
}

/** A baseline's (bench/baseline/*.mjs), from its logfmt line `msg=listening grpc=…` or `msg=listening http=…`. */
function baselineAddresses(line: string): Addresses | undefined {
  const fields = parseLogfmt(line);
  return fields.msg === 'listening' ? { grpc: fields.grpc, http: fields.http } : undefined;
}

export interface ServerCostOptions {
  /** length of each measured run */
  seconds: number;
  /** side-by-side rounds (gRPC) */
  sideBySideRounds: number;
  /** interleaved rounds (gRPC and HTTP) */
  interleavedRounds: number;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const YOUNG_GENERATION = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

/** The CPUs for the servers and for the load generators, when taskset can pin them. */
function placement(): { server?: string; load?: string } {
  const count = cpus().length;
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
  } catch {
    return {};
  }
  return count < 2 ? {} : { server: String(count - 1), load: count === 2 ? '0' : `0-${count - 2}` };
}

interface Run extends LoadResult {
  cpuUsPerCall: number;
}

export async function serverCostFigures(options: ServerCostOptions, log: (line: string) => void): Promise<string> {
  const cpu = placement();
  const node = (script: string, args: string[] = []) => {
    const command = [process.execPath, ...YOUNG_GENERATION, script, ...args];
    return cpu.server === undefined ? command : ['taskset', '-c', cpu.server, ...command];
  };
  const start = (command: string[], ready: (line: string) => Addresses | undefined) =>
    startProcess(command[0] as string, command.slice(1), ready, { POD_IP: '10.1.0.8' });
  const ours = await start(
    node(here('../out/server'), ['--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0']),
    ourAddresses,
  );
  const bareGrpc = await start(node(here('baseline/grpc.mjs')), baselineAddresses);
  const bareHttp = await start(node(here('baseline/http.mjs')), baselineAddresses);
  const generator: Generator = { warmUpSeconds: 0, cpus: cpu.load };
  const grpcLoad = (server: Started<Addresses>) =>
    h2loadGrpc(`http://${server.ready.grpc}/addr.Addr/GetAddr`, options.seconds, 4, 8, undefined, [], generator);
  const httpLoad = (server: Started<Addresses>) =>
    wrkHttp(`http://${server.ready.http}/addr`, options.seconds, 32, generator);

  /** Loads each server at once, with its own load generator; CPU per call of each over the same window. */
  const measure = async (
    servers: Started<Addresses>[],
    load: (server: Started<Addresses>) => Promise<LoadResult>,
  ): Promise<Run[]> => {
    const pids = servers.map((server) => server.child.pid as number);
    const before = pids.map(cpuMs);
    const results = await Promise.all(servers.map(load));
    return results.map((result, i) => ({
      ...result,
      cpuUsPerCall: ((cpuMs(pids[i] as number) - (before[i] as number)) * 1000) / result.requests,
    }));
  };

  // Warm-up: one run each, not counted (JIT, connection set-up).
  log('server cost: warming up');
  for (const server of [ours, bareGrpc]) await measure([server], grpcLoad);
  for (const server of [ours, bareHttp]) await measure([server], httpLoad);

  const sideBySide: Array<[Run, Run]> = [];
  for (let round = 1; round <= options.sideBySideRounds; round++) {
    log(`server cost: gRPC side by side, round ${round}/${options.sideBySideRounds} (${options.seconds} s)`);
    const [mine, bare] = await measure([ours, bareGrpc], grpcLoad);
    sideBySide.push([mine as Run, bare as Run]);
  }
  const interleaved = async (
    name: string,
    bare: Started<Addresses>,
    load: (server: Started<Addresses>) => Promise<LoadResult>,
  ) => {
    const pairs: Array<[Run, Run]> = [];
    for (let round = 1; round <= options.interleavedRounds; round++) {
      log(`server cost: ${name} interleaved, round ${round}/${options.interleavedRounds} (2 × ${options.seconds} s)`);
      const [mine] = await measure([ours], load);
      const [base] = await measure([bare], load);
      pairs.push([mine as Run, base as Run]);
    }
    return pairs;
  };
  const grpcInterleaved = await interleaved('gRPC', bareGrpc, grpcLoad);
  const httpInterleaved = await interleaved('HTTP', bareHttp, httpLoad);

  // No memory column: with the young generation fixed for both, RSS says little (bench/soak.ts measures it).
  const rows: string[][] = [['calls', 'server', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/call']];
  for (const [name, pairs, bareName] of [
    ['gRPC GetAddr (h2load 4×8)', grpcInterleaved, 'bare grpc-js'],
    ['HTTP /addr (wrk 32)', httpInterleaved, 'bare express'],
  ] as const) {
    for (const [label, runs] of [
      [bareName, pairs.map(([, base]) => base)],
      ['addr-server', pairs.map(([mine]) => mine)],
    ] as const) {
      rows.push([
        label === bareName ? name : '',
        label,
        median(runs.map((r) => r.rps)).toFixed(0),
        median(runs.map((r) => r.p50Ms)).toFixed(2),
        median(runs.map((r) => r.p99Ms)).toFixed(2),
        median(runs.map((r) => r.cpuUsPerCall)).toFixed(1),
      ]);
    }
  }
  const ratios = (pairs: Array<[Run, Run]>, figure: (run: Run) => number) =>
    spread(pairs.map(([mine, base]) => figure(mine) / figure(base)));
  const cpuPerCall = (run: Run) => run.cpuUsPerCall;
  const throughput = (run: Run) => run.rps;
  const ratioRows = [
    ['ours ÷ bare', 'median', 'min–max', 'rounds', ''],
    ratioRow('gRPC CPU per call, side by side', ratios(sideBySide, cpuPerCall)),
    ratioRow('gRPC CPU per call, interleaved', ratios(grpcInterleaved, cpuPerCall)),
    ratioRow('HTTP CPU per call, interleaved', ratios(httpInterleaved, cpuPerCall)),
    ratioRow('gRPC throughput, interleaved (wall clock)', ratios(grpcInterleaved, throughput)),
    ratioRow('HTTP throughput, interleaved (wall clock)', ratios(httpInterleaved, throughput)),
  ];
  const where =
    cpu.server === undefined
      ? 'servers and load generators share every CPU (no taskset)'
      : `servers on CPU ${cpu.server}, load generators on CPU ${cpu.load} (taskset)`;
  return [
    formatTable(rows, 2),
    '',
    formatTable(ratioRows),
    '',
    `CPU time of the server process (user + system, /proc) per answered call; the table: medians of the ` +
      `${options.interleavedRounds} interleaved rounds of ${options.seconds} s. Side by side: both servers ` +
      `loaded at once, ${options.sideBySideRounds} rounds. ${where}; both servers with 16 MiB V8 semi-spaces; ` +
      `${cpus().length} CPUs, shared with whatever else runs here.`,
  ].join('\n');
}

/** A ratio's median and range; "within noise" when the range holds 1. */
function ratioRow(name: string, ratio: Spread): string[] {
  return [
    name,
    ratio.median.toFixed(2),
    `${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}`,
    String(ratio.rounds),
    ratio.min <= 1 && ratio.max >= 1 ? 'within noise' : '',
  ];
}
