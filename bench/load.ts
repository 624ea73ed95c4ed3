// Drives the established load generators and reads their figures:
// h2load for gRPC (a unary call is a POST of the 5-byte empty message frame), wrk for HTTP.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { percentile } from '../src/common/statistics.js';

const exec = promisify(execFile);

export interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export const tools = {
  h2load: { package: 'nghttp2-client', probe: ['--version'] },
  wrk: { package: 'wrk', probe: ['--version'] },
} as const;

export async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const [name, tool] of Object.entries(tools)) {
    // wrk --version exits 1 after printing its version; only a missing binary throws ENOENT.
    await exec(name, [...tool.probe]).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') missing.push(`${name} (Debian/Ubuntu: apt-get install ${tool.package})`);
    });
  }
  return missing;
}

/** The kit's one median (nearest rank: the lower middle value for an even count). */
export { median } from '../src/common/statistics.js';

/** How a load generator runs: its warm-up (not counted; 1 s unless told), and the CPUs it may use. */
export interface Generator {
  warmUpSeconds?: number;
  /** a CPU list for taskset (e.g. "0"), to keep the generator off the server's CPU */
  cpus?: string;
}

/** `command args`, or the same run by taskset on `cpus`. */
const onCpus = (cpus: string | undefined, command: string, args: string[]): [string, string[]] =>
  cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];

/**
 * gRPC unary calls over HTTP/2: `connections` connections × `streams` concurrent streams, for `seconds`;
 * with `rate`, at that many requests per second per connection instead of as fast as possible;
 * `headers` ('name: value') go on every call.
 */
export async function h2loadGrpc(
  url: string,
  seconds: number,
  connections = 4,
  streams = 8,
  rate?: number,
  headers: string[] = [],
  generator: Generator = {},
): Promise<LoadResult> {
  const dir = mkdtempSync(`${tmpdir()}/grpc-lb-bench-`);
  try {
    writeFileSync(`${dir}/empty.bin`, Buffer.from([0, 0, 0, 0, 0])); // not compressed, length 0: google.protobuf.Empty
    const { stdout } = await exec(
      ...onCpus(generator.cpus, 'h2load', [
        '-t',
        '1',
        '-c',
        String(connections),
        '-m',
        String(streams),
        '-D',
        String(seconds),
        '--warm-up-time',
        String(generator.warmUpSeconds ?? 1),
        '-d',
        `${dir}/empty.bin`,
        '-H',
        'content-type: application/grpc',
        '-H',
        'te: trailers',
        '--log-file',
        `${dir}/log.tsv`,
        ...(rate ? ['--rps', String(rate)] : []),
        ...headers.flatMap((header) => ['-H', header]),
        url,
      ]),
      { maxBuffer: 1 << 24 },
    );
    const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout)?.[1]);
    const succeeded = Number(/requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(stdout)?.[1]);
    const latencies = readFileSync(`${dir}/log.tsv`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => Number(line.split('\t')[2]) / 1000);
    if (!Number.isFinite(rps) || !succeeded) throw new Error(`h2load: unexpected output:\n${stdout}`);
    return {
      requests: succeeded,
      rps,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.length ? latencies.reduce((max, ms) => Math.max(max, ms), -Infinity) : NaN,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** HTTP/1.1 GETs with keep-alive, `connections` connections, for `seconds`. */
export async function wrkHttp(
  url: string,
  seconds: number,
  connections = 32,
  generator: Pick<Generator, 'cpus'> = {},
): Promise<LoadResult> {
  const { stdout } = await exec(
    ...onCpus(generator.cpus, 'wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', url]),
  );
  const ms = (text: string | undefined) => {
    const match = /([\d.]+)(us|ms|s)/.exec(text ?? '');
    if (!match) return NaN;
    return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2] as 'us' | 'ms' | 's'];
  };
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  if (!Number.isFinite(rps) || /Non-2xx/.test(stdout)) throw new Error(`wrk: unexpected output:\n${stdout}`);
  const maxMs = ms(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(stdout)?.[1]);
  return {
    requests,
    rps,
    p50Ms: ms(/ 50%\s+(\S+)/.exec(stdout)?.[1]),
    p99Ms: ms(/ 99%\s+(\S+)/.exec(stdout)?.[1]),
    maxMs,
  };
}
