// npm run bench:keepalive — how long a pod that hangs with its connection open (SIGSTOP) costs
// client-grpc's calls, with the keepalive it had before (ping after 10 s, 5 s to answer), with today's
// defaults (2 s, 1 s), and with none. Prints figures; asserts nothing. Wall-clock times on whatever
// else the machine is doing: read the spread, not the last digit.
//
// Two out/server pods behind an L4 front (a TCP proxy, as a Service is): the front sends each new
// connection to a pod that is not stopped, as a Service does once the hung pod's readiness probe has
// failed. So what is measured is how long client-grpc keeps using its connection to the hung pod: from
// the SIGSTOP to the end of the last failed call, and to the first reply from the other pod.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { commandOf, kinds, numberOption, optionsOrExit, parseCommand } from '../src/common/cli.js';
import { parseCall, parseListening, type CallRecord, type Listening } from '../src/common/output.js';
import { onShutdown } from '../src/common/shutdown.js';
import { spread } from '../src/common/statistics.js';
import { startProcess, stopAll, track, type Started } from './servers.js';
import { formatTable } from './table.js';

const out = fileURLToPath(new URL('../out/', import.meta.url));

const options = optionsOrExit('bench:keepalive', () => {
  const argv = process.argv.slice(2);
  const parser = commandOf(
    'bench:keepalive',
    '$0 [options]\n\nMeasures how long a SIGSTOPped pod costs client-grpc, per keepalive setting.',
    argv,
  ).options({
    rounds: numberOption('rounds', { ...kinds.count, max: 20 }, 'stops per setting (the median is shown)', 3),
    'bound-ms': numberOption('bound-ms', kinds.positiveMs, 'give up on a round after this long', 30_000),
  });
  const parsed = parseCommand(parser, argv);
  if ('help' in parsed) return parsed;
  return { options: { rounds: parsed.options.rounds as number, boundMs: parsed.options['bound-ms'] as number } };
});

onShutdown(() => {
  stopAll();
  process.exit(130);
});

interface Setting {
  name: string;
  args: string[];
  /** Rounds for this setting: without keepalive every round runs to the bound, once is enough. */
  rounds?: number;
}

const settings: Setting[] = [
  { name: '10 s + 5 s (before)', args: ['--keepalive-ms', '10000', '--keepalive-timeout-ms', '5000'] },
  { name: '2 s + 1 s (default)', args: [] },
  { name: 'off', args: ['--keepalive-ms', '0'], rounds: 1 },
];
const paces: Array<[string, string[]]> = [
  ['--interval 1000 (one call at a time)', ['--interval', '1000']],
  ['--rate 20', ['--rate', '20']],
];

const pods = await Promise.all(
  ['10.4.0.1', '10.4.0.2'].map((ip) =>
    startProcess(
      process.execPath,
      [`${out}server`, '--host', '127.0.0.1', '--http-port', '0', '--grpc-port', '0'],
      parseListening,
      { POD_IP: ip, POD_NAME: `pod-${ip}` },
    ).then((started) => ({ ip, started, stopped: false })),
  ),
);
const front = await l4Front(pods);
const frontPort = (front.address() as { port: number }).port;

interface Round {
  /** ms from the SIGSTOP to the end of each call that failed */
  failures: number[];
  codes: string[];
  /** ms from the SIGSTOP to the first reply from the other pod; undefined: none within the bound */
  recovered: number | undefined;
}

const results: Array<{ pace: string; setting: string; rounds: Round[] }> = [];
for (const [pace, paceArgs] of paces) {
  for (const setting of settings) {
    const rounds: Round[] = [];
    for (let i = 0; i < (setting.rounds ?? options.rounds); i += 1) {
      rounds.push(await stopOnePod([...paceArgs, ...setting.args]));
      process.stderr.write('.');
    }
    results.push({ pace, setting: setting.name, rounds });
  }
}
process.stderr.write('\n');

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const figure = (values: number[]) => {
  if (values.length === 0) return '-';
  const { median, min, max } = spread(values);
  return seconds(min) === seconds(max)
    ? `${seconds(median)} s`
    : `${seconds(median)} s (${seconds(min)}-${seconds(max)})`;
};
console.log(
  `A pod SIGSTOPped under client-grpc (deadline 5 s); keepalive as --keepalive-ms + --keepalive-timeout-ms;\n` +
    `times from the stop; median (range) of ${options.rounds} stops, 1 without keepalive.`,
);
for (const [pace] of paces) {
  console.log(`\nclient-grpc ${pace}:`);
  console.log(
    formatTable(
      [
        ['keepalive', 'failed calls', 'last failure ends', 'first reply elsewhere', 'failures end at (first stop)'],
        ...results
          .filter((result) => result.pace === pace)
          .map(({ setting, rounds }) => {
            const unrecovered = rounds.filter((round) => round.recovered === undefined).length;
            const recovered = rounds.flatMap((round) => (round.recovered === undefined ? [] : [round.recovered]));
            const first = rounds[0] ?? { failures: [], codes: [] };
            return [
              setting,
              String(spread(rounds.map((round) => round.failures.length)).median),
              unrecovered > 0
                ? `still failing at ${seconds(options.boundMs)} s`
                : figure(rounds.map((round) => Math.max(0, ...round.failures))),
              unrecovered > 0 ? 'none' : figure(recovered),
              first.failures
                .slice(0, 3)
                .map((ms, j) => `+${seconds(ms)} ${first.codes[j] ?? ''}`)
                .join(', ') + (first.failures.length > 3 ? ', …' : ''),
            ];
          }),
      ],
      1,
    ),
  );
}
front.close();
stopAll();

/** One round: client-grpc through the front until it has replies, then its pod is stopped. */
async function stopOnePod(args: string[]): Promise<Round> {
  const client = track(
    spawn(process.execPath, [`${out}client-grpc`, `127.0.0.1:${frontPort}`, '--output', 'jsonl', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const records: CallRecord[] = [];
  let rest = '';
  client.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const record = parseCall(line);
      if (record) records.push(record);
    }
  });
  const until = async (done: () => boolean, boundMs: number) => {
    const bound = Date.now() + boundMs;
    while (!done() && Date.now() < bound) await new Promise((resolve) => setTimeout(resolve, 50));
    return done();
  };
  try {
    if (!(await until(() => records.filter((r) => r.code === 'OK').length >= 3, 15_000))) {
      throw new Error(`client-grpc got no replies: ${JSON.stringify(records.slice(-3))}`);
    }
    const victim = pods.find((pod) => pod.ip === records.findLast((r) => r.code === 'OK')?.pod);
    if (!victim) throw new Error('the client answered from no known pod');
    const other = pods.find((pod) => pod !== victim)?.ip;
    const stoppedAt = performance.timeOrigin + performance.now();
    signal(victim.started, 'SIGSTOP');
    victim.stopped = true;
    const ends = (r: CallRecord) => r.t + r.ms;
    const recovered = () => records.find((r) => r.code === 'OK' && r.pod === other && ends(r) > stoppedAt);
    // a reply from the other pod; then a little longer, for the calls still in flight to end
    await until(() => recovered() !== undefined, options.boundMs);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const failed = records.filter((r) => r.code !== 'OK' && ends(r) > stoppedAt).sort((a, b) => ends(a) - ends(b));
    const back = recovered();
    return {
      failures: failed.map((r) => ends(r) - stoppedAt),
      codes: failed.map((r) => r.code),
      recovered: back === undefined ? undefined : ends(back) - stoppedAt,
    };
  } finally {
    client.kill('SIGTERM');
    await once(client, 'exit');
    for (const pod of pods) {
      if (pod.stopped) signal(pod.started, 'SIGCONT');
      pod.stopped = false;
    }
  }
}

function signal(started: Started<Listening>, name: NodeJS.Signals): void {
  if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill(name);
}

/** A TCP proxy that sends each new connection to the next pod that is not stopped. */
async function l4Front(backends: Array<{ started: Started<Listening>; stopped: boolean }>): Promise<Server> {
  let next = 0;
  const server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    const live = backends.filter((backend) => !backend.stopped);
    const backend = live[next++ % Math.max(1, live.length)];
    if (!backend) return socket.destroy();
    const upstream = connect(backend.started.ready.grpc.port, backend.started.ready.grpc.host);
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}
