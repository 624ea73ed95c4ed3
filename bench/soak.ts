// npm run soak: what a cluster's network does to the server and the lab, on loopback, bounded in time
// and count. Idle HTTP/2 connections held against the gRPC port; slowloris and random bytes; the lab
// under 200 concurrent streams with a pod stopped (SIGSTOP). Prints figures; asserts nothing.
import * as grpc from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { command, kinds, numberOption } from '../src/common/cli.js';
import { parseListening, type Listening } from '../src/common/output.js';
import { loadAddrProto } from '../src/common/proto.js';
import { onShutdown } from '../src/common/shutdown.js';
import { BALANCERS } from '../src/lab/data-plane/balancer.js';
import { missingTools, median } from './load.js';
import { peakRssMiB, rssMiB, startProcess, stopAll, type Started } from './servers.js';
import { hostileConnections, idleConnections } from './soak-connections.js';
import { labPorts, labUnderLoad, stoppedPids, type LabResult } from './soak-lab.js';
import { formatTable } from './table.js';

const args = command(
  'soak',
  '$0 [options]\n\nHolds, starves and garbles connections to addr-server, and stops a pod of the lab under load. Needs h2load.',
)
  .options({
    'idle-connections': numberOption(
      'idle-connections',
      { ...kinds.count, max: 15_000 },
      'idle HTTP/2 connections to open against the gRPC port (at most)',
      8000,
    ),
    'hostile-connections': numberOption(
      'hostile-connections',
      { ...kinds.count, max: 2000 },
      'connections of each hostile kind (slowloris, random bytes)',
      500,
    ),
    seconds: numberOption(
      'seconds',
      { ...kinds.count, min: 10, max: 300 },
      'how long each round holds its connections or its load',
      30,
    ),
    streams: numberOption(
      'streams',
      { ...kinds.count, max: 1000 },
      'concurrent streams h2load keeps open through the mesh',
      200,
    ),
  })
  .parseSync();

const say = (line: string) => process.stderr.write(`soak: ${line}\n`);
const root = fileURLToPath(new URL('..', import.meta.url));
/**
 * The server as the soak runs it: its default limits (connections, streams, keepalive), but an idle
 * timeout short enough to act within a round.
 */
const SERVER_ARGS = ['--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--idle-timeout-ms', '10000'];

onShutdown(() => {
  for (const pid of stoppedPids) process.kill(pid, 'SIGCONT'); // a stopped pod could not see its lab go
  stopAll();
  process.exit(130);
});

const missing = (await missingTools()).filter((tool) => tool.startsWith('h2load'));
if (missing.length > 0) {
  console.error(`soak: the load generator is missing:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}

const startServer = () =>
  startProcess(`${root}out/server`, SERVER_ARGS, parseListening, {
    POD_IP: '10.1.0.8',
  });
const stop = async (server: Started<Listening>) => {
  server.child.kill('SIGKILL');
  if (server.child.exitCode === null) await new Promise((resolve) => server.child.once('exit', resolve));
};

/** One GetAddr on a fresh connection: milliseconds to the answer, or why there was none. */
async function getAddr(port: number): Promise<string> {
  const { Addr } = loadAddrProto(`${root}proto/addr.proto`);
  const client = new Addr(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const started = performance.now();
  return new Promise<string>((resolve) =>
    client.getAddr({}, { deadline: Date.now() + 5000 }, (error) => {
      client.close();
      resolve(error ? `no: ${grpc.status[error.code]}` : `yes, in ${(performance.now() - started).toFixed(0)} ms`);
    }),
  );
}

const mib = (value: number) => value.toFixed(0);
const seconds = (values: number[]) =>
  values.length === 0
    ? '—'
    : [Math.min(...values), median(values), Math.max(...values)].map((s) => s.toFixed(1)).join(' / ');

// 1. Idle connections
say(`opening up to ${args['idle-connections']} idle HTTP/2 connections, holding them ${args.seconds} s`);
const idleServer = await startServer();
const idlePid = idleServer.child.pid as number;
const rssBefore = rssMiB(idlePid);
let rssOpened = NaN;
const answered = { opened: '', held: '' };
const idle = await idleConnections(idleServer.ready.grpc.port, args['idle-connections'], 60_000, args.seconds * 1000, {
  opened: async () => {
    rssOpened = rssMiB(idlePid);
    answered.opened = await getAddr(idleServer.ready.grpc.port);
  },
  held: async () => {
    answered.held = await getAddr(idleServer.ready.grpc.port);
  },
});
const idleRows = [
  ['idle HTTP/2 connections (gRPC port)', ''],
  [`opened (of ${idle.attempted} tried, in ${idle.openSeconds.toFixed(1)} s)`, String(idle.established)],
  ["refused or closed before the server's SETTINGS", String(idle.refused)],
  [
    'server RSS before / with them open / peak, MiB',
    `${mib(rssBefore)} / ${mib(rssOpened)} / ${mib(peakRssMiB(idlePid))}`,
  ],
  [`closed by the server within ${args.seconds} s (GOAWAYs)`, `${idle.closedAfter.length} (${idle.goaways})`],
  ['… after s (first / median / last)', seconds(idle.closedAfter)],
  ['GetAddr answered with them open', answered.opened],
  [`GetAddr answered after ${args.seconds} s`, answered.held],
];
await stop(idleServer);

// 2. Slowloris and random bytes
say(`${args['hostile-connections']} connections of each hostile kind for ${args.seconds} s`);
const hostileServer = await startServer();
const hostilePid = hostileServer.child.pid as number;
const hostilePorts = { grpc: hostileServer.ready.grpc.port, http: hostileServer.ready.http.port };
let answeredHostile = '';
let rssHostile = NaN;
const hostile = await hostileConnections(hostilePorts, args['hostile-connections'], args.seconds, async () => {
  rssHostile = rssMiB(hostilePid);
  answeredHostile = await getAddr(hostilePorts.grpc);
});
const hostileRows = [
  ['connections of each kind', `still open after ${args.seconds} s`],
  ...hostile.map((kind) => [kind.name, `${kind.stillOpen} of ${kind.opened}`]),
  ['server RSS at the end / peak, MiB', `${mib(rssHostile)} / ${mib(peakRssMiB(hostilePid))}`],
  ['GetAddr answered at the end', answeredHostile],
];
await stop(hostileServer);

// 3. The lab's own ports: the mesh's and the Service's
const labPortsResult = await labPorts(
  args.seconds,
  Math.min(args['idle-connections'], 2000),
  args['hostile-connections'],
);
const labPortRows = [
  ["the lab's ports", ''],
  [
    `idle HTTP/2 connections to the mesh: opened (of ${labPortsResult.idle.attempted})`,
    String(labPortsResult.idle.established),
  ],
  [
    '… refused (the cap) / closed by the mesh (GOAWAYs)',
    `${labPortsResult.idle.refused} / ${labPortsResult.idle.closedAfter.length} (${labPortsResult.idle.goaways})`,
  ],
  ...labPortsResult.hostile.map((kind) => [
    `${kind.name} (${kind.name.includes('HTTP/1.1') ? 'Service' : 'mesh'})`,
    `${kind.stillOpen} of ${kind.opened} still open after ${args.seconds} s`,
  ]),
  ['GetAddr through the mesh answered at the end', labPortsResult.answeredAtEnd],
  [
    'GET /addr HTTP/1.0, half-closed, through the Service: answered',
    `${labPortsResult.halfClosed.answered} of ${labPortsResult.halfClosed.sent}`,
  ],
  [
    "the lab's descriptors before / at most / after",
    `${labPortsResult.descriptors.before} / ${labPortsResult.descriptors.most} / ${labPortsResult.descriptors.after}`,
  ],
];

// 4. The lab under load, a pod stopped
const stopAt = Math.round(args.seconds / 3);
const lab: LabResult[] = [];
for (const balancer of BALANCERS) {
  say(
    `the lab (3 pods, --mesh-balancer ${balancer}) under ${args.streams} streams for ${args.seconds} s, a pod stopped after ${stopAt} s`,
  );
  lab.push(await labUnderLoad(args.seconds, stopAt, args.streams, balancer));
}
const s = (value: number | undefined) => (value === undefined ? 'never' : `${value.toFixed(1)} s`);
const labRows = [
  ['mesh balancer', ...lab.map((r) => r.balancer)],
  ['h2load calls completed', ...lab.map((r) => String(r.load.requests))],
  ['… per second', ...lab.map((r) => r.load.rps.toFixed(0))],
  [
    '… p50 / p99 / max ms',
    ...lab.map((r) => `${r.load.p50Ms.toFixed(0)} / ${r.load.p99Ms.toFixed(0)} / ${r.load.maxMs.toFixed(0)}`),
  ],
  ['witness calls OK / failed', ...lab.map((r) => `${r.witness.succeeded} / ${r.witness.calls - r.witness.succeeded}`)],
  [
    '… failed as',
    ...lab.map(
      (r) =>
        Object.entries(r.witness.failed)
          .map(([code, n]) => `${n} ${code}`)
          .join(', ') || '—',
    ),
  ],
  ['… last failure, after the stop', ...lab.map((r) => s(r.witness.lastFailureAfterStopSeconds))],
  ['mesh dropped or set the pod aside after', ...lab.map((r) => s(r.meshAsideAfter))],
  ['… calls it had sent the pod since its last answer', ...lab.map((r) => String(r.meshSentBeforeAside ?? '—'))],
  ['readiness took it out of the endpoints after', ...lab.map((r) => s(r.readinessAfter))],
];

console.log(`\n${formatTable(idleRows)}\n\n${formatTable(hostileRows)}\n\n${formatTable(labPortRows)}\n`);
console.log(
  `the lab: 3 pods, h2load ${args.streams} streams on one connection to the mesh for ${args.seconds} s (grpc-timeout 2 s),`,
);
console.log(
  `a witness client calling every 20 ms beside it (2 s deadline); a pod stopped with SIGSTOP after ${stopAt} s\n`,
);
console.log(formatTable(labRows));
console.log(`\nserver: out/server ${SERVER_ARGS.join(' ')}`);
stopAll();
