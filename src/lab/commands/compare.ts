// `out/lab compare`: every fix for gRPC balancing, measured side by side in one run. Each strategy is its
// client Deployment of k8s/strategies — the manifests a user deploys — run as one real client process with
// that manifest's target, args and environment (what they name in the cluster rewritten to where the lab
// serves it), all running together against the same pods, through the same scenario (scenarios/compare.yml
// unless --scenario names another). Then a latency probe per strategy, in rounds that take turns. The
// figures come from the recording; the report, the JSON and the page from the figures. With --cluster the
// same scenario runs on a cluster where the strategies were deployed (compare-cluster.ts).
import type { CommandModule, InferredOptionTypes } from 'yargs';
import { errorText, EXIT_USAGE, kinds, numberOption } from '../../common/cli.js';
import { epochNow } from '../../common/trace.js';
import { onShutdown } from '../../common/shutdown.js';
import { costOf } from '../../common/proc.js';
import { addedOver, measureRounds, type LatencyPath } from '../compare/latency.js';
import type { ReportSettings } from '../compare/report.js';
import { faultOf } from '../compare/faults.js';
import { phaseWith, type AddedLatency } from '../compare/summary.js';
import { NAMESPACE } from '../cluster.js';
import { clientEntry, CLUSTER_STRATEGIES, STRATEGY_NAMES, type ClientEntry } from '../experiment/clients.js';
import { Engine, FAULT_SUFFIX } from '../experiment/engine.js';
import { Recorder } from '../experiment/recording.js';
import { Session } from '../experiment/session.js';
import type { Out } from '../out.js';
import { compareOnCluster } from './compare-cluster.js';
import type { CompareOptions } from './compare-options.js';
import { DEFAULT_DEADLINE_MS, printResults } from './compare-results.js';
import {
  htmlOption,
  intervalOption,
  jsonOption,
  manifestOption,
  phaseSecondsOption,
  podCidrOption,
  scenarioOption,
  strategiesDirOption,
  strategiesOption,
} from './options.js';
import { sayMeshEvents } from './mesh-words.js';
import { Progress } from './progress.js';
import { startFailure } from './start-errors.js';

const DIRECT = 'direct to a pod';

export async function compare(options: CompareOptions, programs: Out): Promise<number> {
  if (options.cluster) return compareOnCluster(options, options.cluster);
  const progress = new Progress();
  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const entries = options.strategies.map(clientEntry);
  const session = new Session({
    programs,
    manifest: options.manifest.objects,
    strategiesDir: options.strategiesDir,
    podCidr: options.podCidr,
    ports: { api: 0, http: 0, grpc: 0, mesh: 0 },
    meshBalancer: 'round-robin',
    connectionAgeMs: options.connectionAgeMs,
    progress,
  });
  const deployments = session.deployments(entries);
  const { scenario } = options;
  const recorder = new Recorder(
    { name: scenario.name, file: scenario.file, description: scenario.description },
    deployments,
  );
  recorder.follow(session.pods, (deployment) => deployment.endsWith(FAULT_SUFFIX));
  // One pace: a rate (the command line's, else the scenario's unless --interval is given), else an interval.
  const rate = options.rate ?? (options.intervalMs === undefined ? scenario.clients.rate : undefined);
  const pace = {
    intervalMs: rate === undefined ? (options.intervalMs ?? scenario.clients.intervalMs ?? 100) : undefined,
    rate,
    deadlineMs: options.deadlineMs ?? scenario.clients.deadlineMs,
  };
  const added = new Map<string, AddedLatency | { unavailable: string }>();
  const stopTracing = recorder.traceEndpoints();
  let failure: unknown;
  let started = false;
  try {
    await session.start({ strategies: entries, replicas: 1 });
    started = true;
    // Said once it runs: a start that fails is one line, the failure's.
    for (const note of options.manifest.notes) progress.event(`lab: ${note}`);
    progress.event(
      `compare: ${entries.length} strategies from ${options.strategiesDir}, scenario ${scenario.name} (${scenario.file}); pods in ${options.podCidr}`,
    );
    await session.firstPods(deployments, abort.signal);
    await session.startClients(entries, 'manifest', pace, recorder);
    for (const [name, mesh] of session.parts.meshes) {
      sayMeshEvents(name, mesh, (line) => progress.event(`  ${line}`));
      mesh.on('endpoints', ({ ips, at }) => recorder.seen(`mesh:${name}`, ips, at));
      mesh.on('connected', ({ ip }) => recorder.connected(`mesh:${name}`, ip, epochNow()));
    }
    await session.firstReplies(abort.signal).catch((error: unknown) => {
      if (abort.signal.aborted) throw error;
      progress.event(`compare: going on without waiting: ${errorText(error)}`);
    });
    const engine = new Engine(session.api, recorder, {
      deployments,
      signal: abort.signal,
      progress,
      phaseMs: options.phaseMs,
    });
    await engine.run(scenario);
    for (const { entry, workload } of session.clients) {
      const client = costOf(workload.pid);
      const edge = entry.route === 'edge' ? costOf(session.strategies.edge?.pid) : undefined;
      const record = recorder.recording.clients.find((c) => c.name === entry.name);
      if (client && record)
        record.cost = { cpuMs: client.cpuMs + (edge?.cpuMs ?? 0), rssMiB: client.rssMiB + (edge?.rssMiB ?? 0) };
    }
    progress.status('stopping the clients …');
    await Promise.all(session.clients.map(({ workload }) => workload.stop()));
    // What a strategy adds to a call is measured on healthy pods, and shown only beside the scaling figures:
    // in a rollout or with a bad pod behind the Service it would measure those.
    if (options.latencySeconds > 0 && phaseWith(recorder.recording, 'scale-up') && !faultOf(recorder.recording))
      await measureAdded(session, entries, options, programs.lab, abort.signal, progress, added);
  } catch (error) {
    failure = error;
  } finally {
    stopTracing();
    progress.done();
    if (started) progress.event('compare: stopping the clients, the pods and the proxies');
    await session.stop();
  }
  if (abort.signal.aborted) {
    console.error('lab compare: interrupted; everything it started has stopped');
    return 130;
  }
  if (failure) {
    console.error(`lab compare: ${startFailure(failure, [])}`);
    return 1;
  }
  const settings: ReportSettings = {
    scenario: scenario.name,
    deadlineMs: pace.deadlineMs ?? DEFAULT_DEADLINE_MS,
    intervalMs: pace.intervalMs,
    rate: pace.rate,
    connectionAgeMs: session.strategies.connectionAgeMs,
    latency: { rate: options.latencyRate, seconds: options.latencySeconds, rounds: options.latencyRounds },
  };
  return printResults(recorder.recording, entries, added, settings, options);
}

/** Each strategy's latency probe against a direct one, in rounds that take turns. */
async function measureAdded(
  session: Session,
  entries: readonly ClientEntry[],
  options: CompareOptions,
  lab: string,
  signal: AbortSignal,
  progress: Progress,
  added: Map<string, AddedLatency | { unavailable: string }>,
): Promise<void> {
  const direct = session.cluster.endpoints('addr-server').list()[0];
  if (!direct) return;
  const paths: LatencyPath[] = [{ name: DIRECT, target: `${direct.address}:${direct.grpcPort}`, lb: 'pick_first' }];
  for (const { entry, call } of session.clients) {
    const lb = call.args?.includes('round_robin') || call.target.startsWith('k8s:') ? 'round_robin' : 'pick_first';
    paths.push({ name: entry.name, target: call.target, lb, env: call.env });
  }
  const { rounds, failures } = await measureRounds(paths, {
    lab,
    rate: options.latencyRate,
    seconds: options.latencySeconds,
    rounds: options.latencyRounds,
    signal,
    progress: (line) => progress.status(line),
  });
  const base = rounds.get(DIRECT) ?? [];
  for (const entry of entries) {
    const figure = addedOver(base, rounds.get(entry.name) ?? []);
    if (figure) added.set(entry.name, figure);
    else if (failures.has(entry.name) || failures.has(DIRECT)) {
      added.set(entry.name, {
        unavailable: failures.get(entry.name) ?? `the direct probe failed: ${failures.get(DIRECT)}`,
      });
    }
  }
}

const compareOptions = (out: Out) =>
  ({
    ...scenarioOption(
      out.file,
      'compare',
      'the scenario: a built-in one (compare, rollout, slow-pod, failing-pod, hung-pod) or a file of steps',
    ),
    ...strategiesOption(
      STRATEGY_NAMES,
      undefined,
      `which strategies to run, comma-separated (default: all of them; with --cluster, those with a Deployment of their own: ${CLUSTER_STRATEGIES.join(', ')})`,
    ),
    ...phaseSecondsOption,
    ...intervalOption(
      undefined,
      "milliseconds between each client's calls, one in flight at a time (default 100, or the scenario's)",
    ),
    rate: numberOption(
      'rate',
      { min: 1, max: 5000, noun: 'calls per second' },
      "each client's calls per second, started on schedule however long the answers take (the scenario's, if it sets one)",
      undefined,
    ),
    'deadline-ms': numberOption(
      'deadline-ms',
      kinds.positiveMs,
      "each call's deadline (the scenario's, else the client's 5000)",
      undefined,
    ),
    'connection-age-ms': numberOption(
      'connection-age-ms',
      { ...kinds.ms, min: 100 },
      "the +age servers' max connection age (ADDR_SERVER_MAX_CONNECTION_AGE_MS; default: their manifest's)",
      undefined,
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
    ...jsonOption('also write the figures as JSON to this file'),
    ...htmlOption('also write a page with a chart per strategy to this file'),
    ...manifestOption(out.file('k8s/server.yml')),
    ...strategiesDirOption(out.file('k8s/strategies')),
    ...podCidrOption,
    cluster: {
      type: 'boolean',
      default: false,
      describe:
        "run the scenario on a cluster where the strategies were deployed (skaffold run -p compare), through its Kubernetes API: the clients as deployed, their calls read from their pods' logs",
    },
    kubeconfig: {
      type: 'string',
      describe: 'with --cluster: the kubeconfig (default: KUBECONFIG, else ~/.kube/config)',
    },
    context: { type: 'string', describe: "with --cluster: the kubeconfig's context (default: its current one)" },
    namespace: {
      type: 'string',
      describe: `with --cluster: the namespace the strategies run in (default: the context's, else ${NAMESPACE}); nothing outside it is touched`,
    },
  }) as const;

export function compareCommand(
  out: Out,
): CommandModule<object, InferredOptionTypes<ReturnType<typeof compareOptions>>> {
  return {
    command: 'compare',
    describe:
      'every fix for gRPC balancing, side by side: one client per strategy, the same pods, the same scenario; a table of figures',
    builder: compareOptions(out),
    handler: async (argv) => {
      const usage = (line: string) => {
        console.error(`lab compare: ${line} (see --help)`);
        process.exit(EXIT_USAGE);
      };
      if (argv.rate !== undefined && argv.interval !== undefined) usage('give --rate or --interval, not both');
      const clusterOnly = (['kubeconfig', 'context', 'namespace'] as const).filter((flag) => argv[flag] !== undefined);
      if (!argv.cluster && clusterOnly.length > 0) usage(`--${clusterOnly[0]} goes with --cluster`);
      const labOnly = (['rate', 'interval', 'deadline-ms', 'connection-age-ms'] as const).filter(
        (flag) => argv[flag] !== undefined,
      );
      if (argv.cluster && labOnly.length > 0)
        usage(
          `--${labOnly[0]} is the lab's: on a cluster the clients and servers run as their Deployments say (kubectl set env / edit them there)`,
        );
      const code = await compare(
        {
          scenario: argv.scenario,
          strategies: argv.strategies ?? [...(argv.cluster ? CLUSTER_STRATEGIES : STRATEGY_NAMES)],
          phaseMs: argv['phase-seconds'] === undefined ? undefined : argv['phase-seconds'] * 1000,
          intervalMs: argv.interval,
          rate: argv.rate,
          deadlineMs: argv['deadline-ms'],
          connectionAgeMs: argv['connection-age-ms'],
          latencySeconds: argv['latency-seconds'],
          latencyRounds: argv['latency-rounds'],
          latencyRate: argv['latency-rate'],
          json: argv.json,
          html: argv.html,
          manifest: argv.manifest,
          strategiesDir: argv['strategies-dir'],
          podCidr: argv['pod-cidr'],
          ...(argv.cluster && {
            cluster: { kubeconfig: argv.kubeconfig, context: argv.context, namespace: argv.namespace },
          }),
        },
        out,
      );
      process.exit(code);
    },
  };
}
