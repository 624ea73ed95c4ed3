// What an L7 data plane adds to a call, and how far it goes: the lab's mesh (in the lab's process, as
// `lab up` runs it; and in a process of its own, out/mesh, as a sidecar runs) and HAProxy, each against
// calling the pod directly. In interleaved rounds — every path once per round, in turn — so that the
// busy machine's drift falls on all alike; each figure is shown with its spread over the rounds, and an
// added latency inside the noise (the direct path's own spread) is printed as such.
import { fileURLToPath } from 'node:url';
import { spread, type Spread } from '../src/common/statistics.js';
import { findHaproxy, HaproxyMesh } from '../src/lab/data-plane/haproxy-mesh.js';
import { parseMeshListening } from '../src/lab/data-plane/mesh-process.js';
import { SliceEndpoints } from '../src/lab/data-plane/slice-endpoints.js';
import { h2loadGrpc } from './load.js';
import { cpuMs, startLabUp, startProcess } from './servers.js';
import { formatTable } from './table.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

interface Path {
  name: string;
  address: string;
  /** The process whose CPU the path costs (the data plane's), if it has one of its own. */
  pid?: number;
}

interface Round {
  p50: number;
  p99: number;
  rps: number;
  cpuUsPerCall: number;
}

/** One lab (one pod), and every data plane in front of that pod; resolves once all answer. */
async function planes(): Promise<{ paths: Path[]; stop(): Promise<void> }> {
  const lab = await startLabUp('127.249.202.0/24', [
    '--replicas',
    '1',
    '--no-mesh-client',
    '--no-service-clients',
    '--no-k8s-client',
  ]);
  const api = `http://127.0.0.1:${lab.ready.api}`;
  const stops: Array<() => unknown> = [
    () => {
      lab.child.kill('SIGINT');
      return new Promise((resolve) => lab.child.once('exit', resolve));
    },
  ];
  try {
    const endpoints = new SliceEndpoints({ api, namespace: 'grpc-lb', service: 'addr-server' });
    await endpoints.start();
    for (let i = 0; i < 100 && endpoints.list().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const pod = endpoints.list()[0];
    if (!pod) throw new Error('the lab pod did not become ready');
    stops.push(() => endpoints.stop());
    const sidecar = await startProcess(`${root}out/mesh`, ['--api', api, '--port', '0'], parseMeshListening);
    stops.push(() => {
      sidecar.child.kill('SIGTERM');
    });
    const paths: Path[] = [
      { name: 'direct to the pod', address: `${pod.address}:${pod.grpcPort}` },
      { name: 'mesh in the lab process', address: `127.0.0.1:${lab.ready.mesh}`, pid: lab.child.pid },
      {
        name: 'mesh in its own process',
        address: `127.0.0.1:${sidecar.ready}`,
        pid: sidecar.child.pid,
      },
    ];
    const haproxy = findHaproxy();
    if (haproxy) {
      const native = new HaproxyMesh(haproxy, endpoints);
      const port = await native.listen(0);
      stops.push(() => native.close());
      paths.push({ name: 'HAProxy (random(2))', address: `127.0.0.1:${port}`, pid: native.pid });
    } else {
      say('haproxy not found: its rounds are left out (Debian/Ubuntu: apt-get install haproxy)');
    }
    // Every path answers before the clock starts.
    for (const path of paths) await h2loadGrpc(`http://${path.address}/addr.Addr/GetAddr`, 1, 1, 1, 50);
    return { paths, stop: async () => void (await Promise.all(stops.reverse().map((stop) => stop()))) };
  } catch (error) {
    for (const stop of stops.reverse()) await stop();
    throw error;
  }
}

const range = (s: Spread, digits: number) =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

/** An added latency: its median and range over the rounds, said to be noise when the direct path's own spread covers it. */
function added(values: number[], noise: number): string {
  const s = spread(values);
  const figure = `${s.median >= 0 ? '+' : ''}${range(s, 3)}`;
  return Math.abs(s.median) <= noise ? `≈ 0, inside the noise (±${noise.toFixed(3)}): ${figure}` : figure;
}

export async function meshFigures(seconds: number, rounds: number, rate: number): Promise<string> {
  const { paths, stop } = await planes();
  const latency = new Map<string, Round[]>(paths.map((p) => [p.name, []]));
  const saturation = new Map<string, Round[]>(paths.map((p) => [p.name, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [label, runs, connections, streams, callsPerSecond] of [
        [`${rate} calls/s`, latency, 1, 1, rate],
        ['saturation', saturation, 4, 8, undefined],
      ] as const) {
        for (const path of paths) {
          say(`GetAddr ${label}, ${path.name}, round ${round}/${rounds} (${seconds} s)`);
          const before = path.pid ? cpuMs(path.pid) : 0;
          const result = await h2loadGrpc(
            `http://${path.address}/addr.Addr/GetAddr`,
            seconds,
            connections,
            streams,
            callsPerSecond,
          );
          runs.get(path.name)?.push({
            p50: result.p50Ms,
            p99: result.p99Ms,
            rps: result.rps,
            cpuUsPerCall: path.pid ? ((cpuMs(path.pid) - before) * 1000) / result.requests : NaN,
          });
        }
      }
    }
  } finally {
    await stop();
  }
  const direct = {
    latency: latency.get(paths[0]?.name ?? '') ?? [],
    saturation: saturation.get(paths[0]?.name ?? '') ?? [],
  };
  const noise = (values: number[]) => (Math.max(...values) - Math.min(...values)) / 2;
  const latencyRows = paths.slice(1).map((path) => {
    const runs = latency.get(path.name) ?? [];
    const p50 = runs.map((r, i) => r.p50 - (direct.latency[i]?.p50 ?? NaN));
    const p99 = runs.map((r, i) => r.p99 - (direct.latency[i]?.p99 ?? NaN));
    return [
      path.name,
      added(p50, noise(direct.latency.map((r) => r.p50))),
      added(p99, noise(direct.latency.map((r) => r.p99))),
      range(spread(runs.map((r) => r.cpuUsPerCall)), 0),
    ];
  });
  const saturationRows = paths.map((path) => {
    const runs = saturation.get(path.name) ?? [];
    const ratio = runs.map((r, i) => r.rps / (direct.saturation[i]?.rps ?? NaN));
    return [
      path.name,
      range(spread(runs.map((r) => r.rps)), 0),
      path === paths[0] ? '1' : range(spread(ratio), 2),
      path.pid ? range(spread(runs.map((r) => r.cpuUsPerCall)), 0) : '—',
    ];
  });
  return [
    `The data planes, ${rounds} interleaved rounds of ${seconds} s; median (min–max over the rounds):`,
    `GetAddr at ${rate} calls/s on one connection; direct p50 ${range(spread(direct.latency.map((r) => r.p50)), 3)} ms, p99 ${range(spread(direct.latency.map((r) => r.p99)), 3)} ms:`,
    formatTable([['path', 'added p50 ms', 'added p99 ms', 'CPU µs/call'], ...latencyRows]),
    '',
    'At saturation (h2load, 4 connections × 8 streams):',
    formatTable([['path', 'calls/s', '÷ direct', 'CPU µs/call'], ...saturationRows]),
    "CPU µs/call: the data plane's process (for the lab's mesh, the whole lab process). Goals: added ≤ 0.3 ms p50, ≤ 1 ms p99; ≥ 0.7× direct.",
  ].join('\n');
}
