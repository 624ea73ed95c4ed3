// out/lab: the post's experiment on one machine, no cluster. `lab` (= npm start) replays it and checks
// the result; `lab up` keeps the emulated cluster running, with a Kubernetes API for kubectl;
// `lab scale N` scales a running one. This file only parses and dispatches.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { command, errorText, EXIT_USAGE, kinds, numberOption, parseNumber, usageError } from '../common/cli.js';
import { loadManifest, type Manifest } from './control-plane/manifest.js';
import { BALANCERS, type BalancerName } from './data-plane/balancer.js';
import { DEFAULT_POD_CIDR, MAX_REPLICAS, type ClusterPorts } from './cluster.js';
import { compare, type CompareOptions } from './commands/compare.js';
import { probe } from './compare/probe.js';
import { STRATEGY_NAMES } from './compare/strategies.js';
import { run, type RunOptions } from './commands/run.js';
import { DEFAULT_API_PORT, scale, type ScaleOptions } from './commands/scale.js';
import { DEFAULT_DASHBOARD_PORT, up, type UpOptions } from './commands/up.js';

const beside = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
/** The executables the lab runs: the ones built beside it in out/. */
const bins = {
  server: beside('server'),
  clientHttp: beside('client-http'),
  clientGrpc: beside('client-grpc'),
  lab: beside('lab'),
};

const portOptions = {
  'http-node-port': numberOption('http-node-port', kinds.port, "the Service's HTTP NodePort (0: any free port)", 30080),
  'grpc-node-port': numberOption('grpc-node-port', kinds.port, "the Service's gRPC NodePort (0: any free port)", 30051),
  'mesh-port': numberOption(
    'mesh-port',
    kinds.port,
    "the mesh sidecar's port for in-mesh clients (0: any free port)",
    4140,
  ),
} as const;
const apiPortOption = (defaultPort: number) =>
  ({
    'api-port': numberOption(
      'api-port',
      kinds.port,
      "the lab's Kubernetes API, which kubectl and `lab scale` talk to (0: any free port)",
      defaultPort,
    ),
  }) as const;
const clusterOptions = {
  manifest: {
    type: 'string',
    default: beside('k8s/server.yml'),
    describe: 'the Deployment addr-server and its Services, as Skaffold deploys them',
  },
  'pod-cidr': {
    type: 'string',
    default: DEFAULT_POD_CIDR,
    describe: "the pods' addresses: a /24 in 127.0.0.0/8, all local on Linux (pods get .8, .9, …)",
    coerce: (value: string) => {
      if (!/^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.0\/24$/.test(value)) {
        throw new Error(
          `--pod-cidr must be a /24 inside 127.0.0.0/8 such as ${DEFAULT_POD_CIDR}, got ${JSON.stringify(value)}`,
        );
      }
      return value;
    },
  },
} as const;
const replicaKind = { min: 0, max: MAX_REPLICAS, noun: 'a whole number of replicas' };
const meshBalancerOption = {
  'mesh-balancer': {
    choices: BALANCERS,
    default: 'round-robin' as BalancerName,
    describe: "how the mesh picks a pod per request: in turn, or Linkerd's power-of-two-choices over latency",
  },
} as const;
const intervalOption = {
  interval: numberOption('interval', { ...kinds.ms, min: 10 }, "milliseconds between each lab client's requests", 1000),
} as const;

/** The manifest, or one line saying what in it the lab cannot use (exit 2: the input is wrong). */
function manifestOrExit(file: string): Manifest {
  try {
    return loadManifest(file);
  } catch (error) {
    console.error(`lab: ${errorText(error)}`);
    process.exit(EXIT_USAGE);
  }
}

type ProbeArgs = { target: string; lb: 'pick_first' | 'round_robin'; rate: number; seconds: number };
type Selected =
  | ({ cmd: 'run' } & RunOptions)
  | ({ cmd: 'up' } & UpOptions)
  | ({ cmd: 'scale' } & ScaleOptions)
  | ({ cmd: 'compare' } & CompareOptions)
  | ({ cmd: 'probe' } & ProbeArgs);

const cidrOption = (describe: string, fallback: string) =>
  ({ ...clusterOptions['pod-cidr'], default: fallback, describe }) as const;
const writableFile = (flag: string, file: string | undefined) => {
  if (file !== undefined && (file === '' || !existsSync(dirname(resolve(file)))))
    throw new Error(`--${flag}: no such folder for ${file}`);
};
let selected: Selected | undefined;

const portsOf = (argv: {
  'http-node-port': number;
  'grpc-node-port': number;
  'mesh-port': number;
  'api-port': number;
}): ClusterPorts => ({
  http: argv['http-node-port'],
  grpc: argv['grpc-node-port'],
  mesh: argv['mesh-port'],
  api: argv['api-port'],
});

const parser: Argv = command(
  'lab',
  '$0 [run|up|scale N|compare] [options]\n\nThe experiment on one machine: real addr-server pods with their own pod IPs, ' +
    'a Service that balances per connection (L4, like kube-proxy), a mesh proxy that balances per request (L7, like Linkerd).',
)
  .command(
    ['run', '$0'],
    'replay the post (1 replica → 5 → 2) and check that what the clients see matches it',
    (y) =>
      y
        .options({
          'phase-seconds': numberOption(
            'phase-seconds',
            { min: 1, max: 600, noun: 'a whole number of seconds' },
            'length of each of the three phases',
            15,
          ),
          ...intervalOption,
          json: { type: 'string', describe: 'also write the report as JSON to this file' },
          ...meshBalancerOption,
          ...portOptions,
          ...apiPortOption(0),
          ...clusterOptions,
        })
        .check((argv) => {
          if (argv.json !== undefined && (argv.json === '' || !existsSync(dirname(resolve(argv.json))))) {
            throw new Error(`--json: no such folder for ${argv.json}`);
          }
          return true;
        }),
    (argv) => {
      selected = {
        cmd: 'run',
        meshBalancer: argv['mesh-balancer'],
        phaseSeconds: argv['phase-seconds'],
        interval: argv.interval,
        json: argv.json,
        ports: portsOf(argv),
        manifest: manifestOrExit(argv.manifest),
        podCidr: argv['pod-cidr'],
      };
    },
  )
  .command(
    'up',
    "keep the emulated cluster running with a live per-pod tally and a dashboard; run the post's client commands from other terminals",
    (y) =>
      y.options({
        replicas: numberOption('replicas', replicaKind, "replicas to start with (default: the manifest's)", undefined),
        'mesh-client': {
          type: 'boolean',
          default: true,
          describe: "run an in-mesh client-grpc, like the post's in-cluster client",
        },
        'service-clients': {
          type: 'boolean',
          default: true,
          describe: "run client-http and client-grpc through the Service, like the post's two terminals",
        },
        'k8s-client': {
          type: 'boolean',
          default: true,
          describe: 'run client-grpc on k8s:///, which balances by itself over the endpoints it watches',
        },
        'dashboard-port': numberOption(
          'dashboard-port',
          kinds.port,
          "the dashboard (live charts, scale and delete buttons) and the lab's /metrics, on 127.0.0.1 (0: any free port)",
          DEFAULT_DASHBOARD_PORT,
        ),
        ...intervalOption,
        ...meshBalancerOption,
        ...portOptions,
        ...apiPortOption(DEFAULT_API_PORT),
        ...clusterOptions,
        kubeconfig: {
          type: 'string',
          describe: 'where to write the kubeconfig for kubectl (default: a file in the temporary folder)',
        },
      }),
    (argv) => {
      selected = {
        cmd: 'up',
        meshBalancer: argv['mesh-balancer'],
        replicas: argv.replicas,
        interval: argv.interval,
        meshClient: argv['mesh-client'],
        serviceClients: argv['service-clients'],
        k8sClient: argv['k8s-client'],
        ports: portsOf(argv),
        dashboardPort: argv['dashboard-port'],
        manifest: manifestOrExit(argv.manifest),
        podCidr: argv['pod-cidr'],
        kubeconfig: argv.kubeconfig,
      };
    },
  )
  .command(
    'scale <replicas>',
    'change the replica count of the running lab, as `kubectl scale` does through its API',
    (y) =>
      y
        .positional('replicas', {
          type: 'string',
          describe: `new replica count, 0 to ${MAX_REPLICAS}`,
          coerce: (value: unknown) => parseNumber(value, replicaKind, 'replicas'),
        })
        .options(apiPortOption(DEFAULT_API_PORT)),
    (argv) => {
      selected = { cmd: 'scale', replicas: argv.replicas as number, apiPort: argv['api-port'] };
    },
  );
parser
  .command(
    'compare',
    'every fix for gRPC balancing, side by side: one client per strategy, the same pods, the same scaling; a table of figures',
    (y) =>
      y
        .options({
          strategies: {
            type: 'string',
            default: STRATEGY_NAMES.join(','),
            describe: 'which strategies to run, comma-separated',
            coerce: (value: string) => {
              const names = value
                .split(',')
                .map((name) => name.trim())
                .filter(Boolean);
              const unknown = names.filter((name) => !STRATEGY_NAMES.includes(name));
              if (names.length === 0 || unknown.length > 0)
                throw new Error(
                  `--strategies: unknown ${unknown.join(', ') || '(none given)'}; choose from ${STRATEGY_NAMES.join(', ')}`,
                );
              return names;
            },
          },
          'phase-seconds': numberOption(
            'phase-seconds',
            { min: 1, max: 600, noun: 'a whole number of seconds' },
            'length of each of the four counting phases',
            20,
          ),
          interval: numberOption('interval', { ...kinds.ms, min: 10 }, "milliseconds between each client's calls", 100),
          'connection-age-ms': numberOption(
            'connection-age-ms',
            { ...kinds.ms, min: 100 },
            "the +age Deployment's max connection age (ADDR_SERVER_MAX_CONNECTION_AGE_MS)",
            5000,
          ),
          'latency-seconds': numberOption(
            'latency-seconds',
            { min: 0, max: 120, noun: 'a whole number of seconds' },
            'length of each latency probe (0: none)',
            2,
          ),
          'latency-rounds': numberOption(
            'latency-rounds',
            { min: 1, max: 20, noun: 'a whole number of rounds' },
            'latency probes per strategy, taking turns (the median is kept)',
            3,
          ),
          'latency-rate': numberOption(
            'latency-rate',
            { min: 1, max: 2000, noun: 'a whole number of calls per second' },
            'calls per second of the latency probes',
            200,
          ),
          json: { type: 'string', describe: 'also write the figures as JSON to this file' },
          html: { type: 'string', describe: 'also write a page with a chart per strategy to this file' },
          manifest: clusterOptions.manifest,
          'pod-cidr': cidrOption("the plain Deployment's pods: a /24 in 127.0.0.0/8", DEFAULT_POD_CIDR),
          'aged-pod-cidr': cidrOption(
            'the pods of the Deployment with a max connection age: another /24',
            '127.245.0.0/24',
          ),
        })
        .check((argv) => {
          writableFile('json', argv.json);
          writableFile('html', argv.html);
          if (argv['pod-cidr'] === argv['aged-pod-cidr']) throw new Error('--pod-cidr and --aged-pod-cidr must differ');
          return true;
        }),
    (argv) => {
      selected = {
        cmd: 'compare',
        strategies: argv.strategies as unknown as string[],
        phaseSeconds: argv['phase-seconds'],
        interval: argv.interval,
        connectionAgeMs: argv['connection-age-ms'],
        latencySeconds: argv['latency-seconds'],
        latencyRounds: argv['latency-rounds'],
        latencyRate: argv['latency-rate'],
        json: argv.json,
        html: argv.html,
        manifest: manifestOrExit(argv.manifest),
        podCidrs: { plain: argv['pod-cidr'], aged: argv['aged-pod-cidr'] },
      };
    },
  )
  .command(
    'probe <target>',
    false, // compare's latency probe, run as a process of its own with a strategy's environment
    (y) =>
      y.positional('target', { type: 'string', demandOption: true }).options({
        lb: { choices: ['pick_first', 'round_robin'] as const, default: 'pick_first' as const },
        rate: numberOption('rate', { min: 1, max: 5000, noun: 'calls per second' }, 'calls per second', 200),
        seconds: numberOption('seconds', { min: 1, max: 120, noun: 'seconds' }, 'how long', 3),
      }),
    (argv) => {
      selected = { cmd: 'probe', target: argv.target, lb: argv.lb, rate: argv.rate, seconds: argv.seconds };
    },
  );
parser.parseSync();
if (!selected) usageError(parser, 'lab', 'unknown command');

switch (selected?.cmd) {
  case 'run':
    process.exit(await run(selected, bins));
    break;
  case 'up':
    await up(selected, { ...bins, dashboard: beside('dashboard') });
    break;
  case 'scale':
    process.exit(await scale(selected));
    break;
  case 'compare':
    process.exit(await compare(selected, bins));
    break;
  case 'probe':
    try {
      console.log(JSON.stringify(await probe(selected)));
      process.exit(0);
    } catch (error) {
      console.error(`lab probe: ${errorText(error)}`);
      process.exit(1);
    }
}
