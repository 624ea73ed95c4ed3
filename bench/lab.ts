// The lab's figures: how long `npm start` takes to show the first reply, and what the L4 Service adds to
// a call's latency compared with calling the pod directly (the L7 data planes: bench/mesh.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { h2loadGrpc, median, type LoadResult } from './load.js';
import { startLabUp, track } from './servers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// Ports and a pod network of its own: other labs may run on this machine.
const ephemeral = [
  '--http-node-port',
  '0',
  '--grpc-node-port',
  '0',
  '--mesh-port',
  '0',
  '--pod-cidr',
  '127.249.203.0/24',
];
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Seconds from spawning `npm start` to the lab's first replies (the whole short run is then let finish). */
async function startToFirstReply(): Promise<number> {
  const started = performance.now();
  const child = track(
    spawn('npm', ['start', '--silent', '--', '--phase-seconds', '1', '--interval', '100', ...ephemeral], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  const seconds = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error('npm start showed no reply within 60 s')), 60_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      if (/first answers from all/.test(seen)) {
        clearTimeout(timer);
        resolve((performance.now() - started) / 1000);
      }
    });
  });
  await new Promise((resolve) => child.on('exit', resolve));
  return seconds;
}

export async function labFigures(seconds: number, rounds: number, rate: number): Promise<string> {
  const firstReply: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    say(`npm start until the first reply, round ${round}/${rounds}`);
    firstReply.push(await startToFirstReply());
  }

  const lab = await startLabUp('127.249.201.0/24', [
    '--replicas',
    '1',
    '--no-mesh-client',
    '--no-service-clients',
    '--no-k8s-client',
  ]);
  const apiPort = lab.ready.api;
  try {
    // The pod, from the lab's Kubernetes API: its IP, where it answers gRPC (the manifest's container port).
    let podIp: string | undefined;
    for (let i = 0; i < 100 && !podIp; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const slices = (await (
        await fetch(`http://127.0.0.1:${apiPort}/apis/discovery.k8s.io/v1/namespaces/grpc-lb/endpointslices`)
      ).json()) as {
        items: Array<{ endpoints: Array<{ addresses: string[]; conditions: { ready: boolean } }> }>;
      };
      podIp = slices.items[0]?.endpoints.find((e) => e.conditions.ready)?.addresses[0];
    }
    if (!podIp) throw new Error('the lab pod did not become ready');

    const paths = [
      ['direct to the pod', `${podIp}:30051`],
      ['via the Service (L4)', `127.0.0.1:${lab.ready.grpc}`],
    ] as const;
    const results = new Map<string, LoadResult[]>(paths.map(([name]) => [name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const [name, port] of paths) {
        say(`GetAddr at ${rate} calls/s ${name}, round ${round}/${rounds} (${seconds} s)`);
        results.get(name)?.push(await h2loadGrpc(`http://${port}/addr.Addr/GetAddr`, seconds, 1, 1, rate));
      }
    }
    const summary = paths.map(([name]) => {
      const runs = results.get(name) ?? [];
      return { name, p50: median(runs.map((r) => r.p50Ms)), p99: median(runs.map((r) => r.p99Ms)) };
    });
    const [direct, service] = summary;
    const rows = summary.map(
      (s) => `${s.name.padEnd(24)}${s.p50.toFixed(3).padStart(9)}${s.p99.toFixed(3).padStart(9)}`,
    );
    return [
      `time from \`npm start\` to the first reply: ${median(firstReply).toFixed(1)} s (median of ${rounds}; includes the build check)`,
      '',
      `GetAddr latency at a fixed ${rate} calls/s on one connection (median of ${rounds} runs of ${seconds} s):`,
      `${'path'.padEnd(24)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`,
      ...rows,
      `${'Service added'.padEnd(24)}${((service?.p50 ?? NaN) - (direct?.p50 ?? NaN)).toFixed(3).padStart(9)}${((service?.p99 ?? NaN) - (direct?.p99 ?? NaN)).toFixed(3).padStart(9)}`,
    ].join('\n');
  } finally {
    lab.child.kill('SIGINT');
    await new Promise((resolve) => lab.child.once('exit', resolve));
  }
}
