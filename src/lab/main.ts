// out/lab: the post's experiment on one machine, no cluster. `lab` (= npm start) replays it and checks
// the result; `lab up` keeps the emulated cluster running; `lab scale N` scales a running one.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { command, isPort, usageError } from '../common/cli.js';
import { DEFAULT_API_PORT, MAX_REPLICAS } from './api.js';
import { BALANCERS, type BalancerName } from './balancer.js';
import type { ClusterPorts } from './cluster.js';
import { run, type RunOptions } from './run.js';
import { scale, up, type ScaleOptions, type UpOptions } from './up.js';

const beside = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
/** The executables the lab runs: the ones built beside it in out/. */
const bins = { server: beside('server'), clientHttp: beside('client-http'), clientGrpc: beside('client-grpc') };

const portOptions = {
  'http-node-port': { type: 'number', default: 30080, describe: "the Service's HTTP NodePort (0: any free port)" },
  'grpc-node-port': { type: 'number', default: 30051, describe: "the Service's gRPC NodePort (0: any free port)" },
  'mesh-port': { type: 'number', default: 4140, describe: "the mesh sidecar's port for in-mesh clients (0: any free port)" },
} as const;
const apiPortOption = {
  'api-port': { type: 'number', default: DEFAULT_API_PORT, describe: "the lab's control port, which `lab scale` talks to (up: 0 for any free port)" },
} as const;
const meshBalancerOption = {
  'mesh-balancer': {
    choices: BALANCERS,
    default: 'round-robin' as BalancerName,
    describe: "how the mesh picks a pod per request: in turn, or Linkerd's power-of-two-choices over latency",
  },
} as const;
const intervalOption = { interval: { type: 'number', default: 1000, describe: "milliseconds between each lab client's requests" } } as const;

/** The checks the commands share: port numbers and the clients' interval. */
function checkShared(argv: Record<string, unknown>): true {
  for (const name of ['http-node-port', 'grpc-node-port', 'mesh-port', 'api-port']) {
    if (name in argv && !isPort(argv[name])) throw new Error(`--${name} must be a port number from 0 to 65535, got ${argv[name]}`);
  }
  if ('interval' in argv && !(Number.isInteger(argv.interval) && (argv.interval as number) >= 10)) {
    throw new Error(`--interval must be a whole number of milliseconds, at least 10, got ${argv.interval}`);
  }
  return true;
}

type Selected = ({ cmd: 'run' } & RunOptions) | ({ cmd: 'up' } & UpOptions) | ({ cmd: 'scale' } & ScaleOptions);
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
          ...meshBalancerOption,
          ...portOptions,
        })
        .check((argv) => {
          if (!(Number.isInteger(argv['phase-seconds']) && argv['phase-seconds'] >= 1 && argv['phase-seconds'] <= 600)) {
            throw new Error(`--phase-seconds must be a whole number from 1 to 600, got ${argv['phase-seconds']}`);
          }
          if (argv.json !== undefined && (argv.json === '' || !existsSync(dirname(resolve(argv.json))))) {
            throw new Error(`--json: no such folder for ${argv.json}`);
          }
          return checkShared(argv);
        }),
    (argv) => {
      selected = {
        cmd: 'run',
        meshBalancer: argv['mesh-balancer'],
        phaseSeconds: argv['phase-seconds'],
        interval: argv.interval,
        json: argv.json,
        ports: portsOf(argv),
      };
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
          ...meshBalancerOption,
          ...portOptions,
          ...apiPortOption,
        })
        .check((argv) => {
          if (!(Number.isInteger(argv.replicas) && argv.replicas >= 0 && argv.replicas <= MAX_REPLICAS)) {
            throw new Error(`--replicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${argv.replicas}`);
          }
          return checkShared(argv);
        }),
    (argv) => {
      selected = {
        cmd: 'up',
        meshBalancer: argv['mesh-balancer'],
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
          return checkShared(argv);
        }),
    (argv) => {
      selected = { cmd: 'scale', replicas: argv.replicas as number, apiPort: argv['api-port'] };
    },
  );
parser.parseSync();
if (!selected) usageError(parser, 'lab', 'unknown command');

switch (selected?.cmd) {
  case 'run':
    process.exit(await run(selected, bins));
    break;
  case 'up':
    await up(selected, bins);
    break;
  case 'scale':
    process.exit(await scale(selected));
}
