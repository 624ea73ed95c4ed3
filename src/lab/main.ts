// out/lab: the post's experiment on one machine, no cluster. `lab` (= npm start) replays it and checks
// the result; `lab up` keeps the emulated cluster running; `lab scale N` scales a running one.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { command, errorText, EXIT_USAGE, isPort, usageError } from '../common/cli.js';
import { listen } from '../common/listen.js';
import { onShutdown } from '../common/shutdown.js';
import { callApi, MAX_REPLICAS, serveApi } from './api.js';
import { Cluster, type ClusterPorts } from './cluster.js';
import { LiveView } from './live.js';
import { Progress } from './progress.js';
import { pathLabel, phaseTable, reportJson, verdicts } from './report.js';
import { PHASES, runScenario } from './scenario.js';
import { Workload } from './workload.js';

const beside = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const bins = { server: beside('server'), clientHttp: beside('client-http'), clientGrpc: beside('client-grpc') };

const portOptions = {
  'http-node-port': { type: 'number', default: 30080, describe: "the Service's HTTP NodePort (0: any free port)" },
  'grpc-node-port': { type: 'number', default: 30051, describe: "the Service's gRPC NodePort (0: any free port)" },
  'mesh-port': { type: 'number', default: 4140, describe: "the mesh sidecar's port for in-mesh clients (0: any free port)" },
} as const;
const apiPortOption = {
  'api-port': { type: 'number', default: 30000, describe: "the lab's control port, which `lab scale` talks to (up: 0 for any free port)" },
} as const;
const intervalOption = { interval: { type: 'number', default: 1000, describe: "milliseconds between each lab client's requests" } } as const;

function checkPorts(argv: Record<string, unknown>): true {
  for (const name of ['http-node-port', 'grpc-node-port', 'mesh-port', 'api-port']) {
    if (name in argv && !isPort(argv[name])) throw new Error(`--${name} must be a port number from 0 to 65535, got ${argv[name]}`);
  }
  if ('interval' in argv && !(Number.isInteger(argv.interval) && (argv.interval as number) >= 10)) {
    throw new Error(`--interval must be a whole number of milliseconds, at least 10, got ${argv.interval}`);
  }
  return true;
}

type Selected =
  | { cmd: 'run'; phaseSeconds: number; interval: number; json: string | undefined; ports: ClusterPorts }
  | { cmd: 'up'; replicas: number; interval: number; meshClient: boolean; apiPort: number; ports: ClusterPorts }
  | { cmd: 'scale'; replicas: number; apiPort: number };
let selected: Selected | undefined;

const portsOf = (argv: { 'http-node-port': number; 'grpc-node-port': number; 'mesh-port': number }): ClusterPorts => ({
  http: argv['http-node-port'],
  grpc: argv['grpc-node-port'],
  mesh: argv['mesh-port'],
});

const parser: Argv = command(
  'lab',
  '$0 [run|up|scale N] [options]\n\nThe experiment on one machine: real addr-server pods with their own pod IPs, ' +
    'a Service that balances per connection (L4, like kube-proxy), a mesh proxy that balances per request (L7, like Linkerd).',
)
  .command(
    ['run', '$0'],
    'replay the post (1 replica → 5 → 2) and check that what the clients see matches it',
    (y) =>
      y
        .options({
          'phase-seconds': { type: 'number', default: 15, describe: 'length of each of the three phases' },
          ...intervalOption,
          json: { type: 'string', describe: 'also write the report as JSON to this file' },
          ...portOptions,
        })
        .check((argv) => {
          if (!(Number.isInteger(argv['phase-seconds']) && argv['phase-seconds'] >= 1 && argv['phase-seconds'] <= 600)) {
            throw new Error(`--phase-seconds must be a whole number from 1 to 600, got ${argv['phase-seconds']}`);
          }
          if (argv.json !== undefined && (argv.json === '' || !existsSync(dirname(resolve(argv.json))))) {
            throw new Error(`--json: no such folder for ${argv.json}`);
          }
          return checkPorts(argv);
        }),
    (argv) => {
      selected = { cmd: 'run', phaseSeconds: argv['phase-seconds'], interval: argv.interval, json: argv.json, ports: portsOf(argv) };
    },
  )
  .command(
    'up',
    'keep the emulated cluster running with a live per-pod tally; run the post\'s client commands from other terminals',
    (y) =>
      y
        .options({
          replicas: { type: 'number', default: 1, describe: 'replicas to start with' },
          'mesh-client': { type: 'boolean', default: true, describe: 'run an in-mesh client-grpc, like the post\'s in-cluster client' },
          ...intervalOption,
          ...portOptions,
          ...apiPortOption,
        })
        .check((argv) => {
          if (!(Number.isInteger(argv.replicas) && argv.replicas >= 0 && argv.replicas <= MAX_REPLICAS)) {
            throw new Error(`--replicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${argv.replicas}`);
          }
          return checkPorts(argv);
        }),
    (argv) => {
      selected = {
        cmd: 'up',
        replicas: argv.replicas,
        interval: argv.interval,
        meshClient: argv['mesh-client'],
        apiPort: argv['api-port'],
        ports: portsOf(argv),
      };
    },
  )
  .command(
    'scale <replicas>',
    'change the replica count of the running lab (the stand-in for kubectl scale)',
    (y) =>
      y
        .positional('replicas', { type: 'number', describe: `new replica count, 0 to ${MAX_REPLICAS}` })
        .options(apiPortOption)
        .check((argv) => {
          if (!(Number.isInteger(argv.replicas) && (argv.replicas as number) >= 0 && (argv.replicas as number) <= MAX_REPLICAS)) {
            throw new Error(`replicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${argv.replicas}`);
          }
          return checkPorts(argv);
        }),
    (argv) => {
      selected = { cmd: 'scale', replicas: argv.replicas as number, apiPort: argv['api-port'] };
    },
  );
parser.parseSync();
if (!selected) usageError(parser, 'lab', 'unknown command');

/** Starts the cluster, or says in one line why it cannot (a port in use) and exits 1. */
async function startOrExit(cluster: Cluster, ports: ClusterPorts, replicas: number): Promise<void> {
  try {
    await cluster.start(ports, replicas);
  } catch (error) {
    console.error(`lab: ${errorText(error)}`);
    process.exit(1);
  }
}

async function run(options: Extract<Selected, { cmd: 'run' }>): Promise<number> {
  const progress = new Progress();
  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const cluster = new Cluster(bins.server);
  cluster.deployment.on('event', (message) => progress.event(`  ${message}`));
  await startOrExit(cluster, options.ports, 0);
  const { http, grpc, mesh } = cluster.ports;
  progress.event(`lab: Service addr-server on 127.0.0.1:${http} (HTTP), :${grpc} (gRPC); mesh proxy :${mesh}`);
  cluster.deployment.scale(PHASES[0].replicas);
  let phases;
  try {
    phases = await runScenario(cluster, progress, { phaseSeconds: options.phaseSeconds, intervalMs: options.interval, bins, signal: abort.signal });
  } catch (error) {
    progress.done();
    console.error(`lab: ${errorText(error)}`);
    return 1;
  } finally {
    progress.event('lab: stopping the pods');
    await cluster.stop();
  }
  if (abort.signal.aborted) {
    console.error('lab: interrupted; everything it started has stopped');
    return 130;
  }

  console.log(phases.map((phase, i) => phaseTable(phase, i, phases.length)).join('\n\n'));
  const scaledUp = phases.reduce((a, b) => (b.replicas > a.replicas ? b : a));
  const results = verdicts(scaledUp);
  console.log(`\nAfter scaling up to ${scaledUp.replicas}:\n${results.map((v) => `  ${v.line}`).join('\n')}`);
  const last = phases.at(-1);
  if (last && last !== scaledUp) {
    const failed = last.clients.filter((c) => c.errors > 0);
    console.log(
      failed.length === 0
        ? `While scaling down to ${last.replicas}, no client lost a call.`
        : `While scaling down to ${last.replicas}, calls failed: ${failed.map((c) => `${pathLabel(c)} ${c.errors}`).join(', ')}`,
    );
  }
  const ok = results.every((v) => v.ok);
  console.log(ok ? '\nThe lab saw what the post saw.' : '\nThe lab did NOT see what the post saw (see the ✗ lines).');
  if (options.json) {
    try {
      writeFileSync(options.json, `${JSON.stringify(reportJson(phases), null, 2)}\n`);
    } catch (error) {
      console.error(`lab: cannot write ${options.json}: ${errorText(error)}`);
      return 1;
    }
  }
  return ok ? 0 : 1;
}

async function up(options: Extract<Selected, { cmd: 'up' }>): Promise<void> {
  const cluster = new Cluster(bins.server);
  const live = new LiveView(cluster);
  const api = serveApi(cluster, (replicas) => {
    cluster.deployment.scale(replicas);
    live.reset();
  });
  // The control port first: if it is taken, nothing has started yet.
  const apiPort = await listen(api, options.apiPort, '127.0.0.1').catch((error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `lab: port ${options.apiPort} (the lab's control port) is already in use on 127.0.0.1 — another lab? Change it with --api-port`
        : `lab: ${error.message}`,
    );
    process.exit(1);
  });
  await startOrExit(cluster, options.ports, options.replicas);
  const { http, grpc, mesh } = cluster.ports;
  const header = [
    `lab up: Service HTTP 127.0.0.1:${http}, gRPC :${grpc} · mesh :${mesh} · control :${apiPort}`,
    `  try: out/client-http http://127.0.0.1:${http}/addr`,
    `       out/client-grpc localhost:${grpc}        (through the Service, L4)`,
    `       out/client-grpc localhost:${mesh}         (through the mesh sidecar, L7)`,
    `       out/lab scale 5${apiPort === 30000 ? '' : ` --api-port ${apiPort}`}`,
    '  Ctrl-C stops everything.',
  ].join('\n');
  const workload = options.meshClient
    ? new Workload({ name: 'client-grpc', protocol: 'grpc', path: 'l7', bin: bins.clientGrpc, target: `localhost:${mesh}` }, options.interval)
    : undefined;
  if (!process.stdout.isTTY) console.log(header);
  live.start(header);
  onShutdown(async () => {
    live.stop();
    api.close();
    await workload?.stop();
    await cluster.stop();
    console.log('lab: stopped; every pod and proxy it started is gone');
    process.exit(0);
  });
}

async function scale(options: Extract<Selected, { cmd: 'scale' }>): Promise<number> {
  try {
    const answer = await callApi(options.apiPort, 'POST', `/scale?replicas=${options.replicas}`);
    if (answer.status !== 200) {
      console.error(`lab scale: ${String(answer.body.error ?? answer.status)}`);
      return EXIT_USAGE;
    }
    console.log(`deployment.apps/addr-server scaled to ${options.replicas}`);
    return 0;
  } catch (error) {
    const refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    console.error(
      refused
        ? `lab scale: no lab is running on 127.0.0.1:${options.apiPort} — start one with \`out/lab up\``
        : `lab scale: ${errorText(error)}`,
    );
    return 1;
  }
}

switch (selected?.cmd) {
  case 'run':
    process.exit(await run(selected));
    break;
  case 'up':
    await up(selected);
    break;
  case 'scale':
    process.exit(await scale(selected));
}
