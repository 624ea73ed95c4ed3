// `out/lab compare`: every fix for gRPC balancing, measured side by side in one run. Each strategy is one
// real client process from the catalog (its own target, policy and environment), all running together
// against the same pods, through the same scenario (scenarios/compare.yml unless --scenario names
// another). Then a latency probe per strategy, in rounds that take turns. The figures come from the
// recording; the report, the JSON and the page from the figures.
import { writeFileSync } from 'node:fs';
import type { CommandModule, InferredOptionTypes } from 'yargs';
import { errorText, EXIT_USAGE, kinds, numberOption } from '../../common/cli.js';
import { epochNow } from '../../common/trace.js';
import { onShutdown } from '../../common/shutdown.js';
import { NAMESPACE } from '../cluster.js';
import { costOf } from '../../common/proc.js';
import { comparePage, type PageRow } from '../compare/html.js';
import { addedOver, addedText, measureRounds, type LatencyPath } from '../compare/latency.js';
import { compareJson, compareTable, faultTable, rolloutTable, type ReportSettings } from '../compare/report.js';
import { faultOf, summarizeFaults, type FaultResult } from '../compare/faults.js';
import { summarizeRollout, type RolloutResult } from '../compare/rollout.js';
import { phaseWith, summarize, type AddedLatency, type StrategyResult } from '../compare/summary.js';
import { clientEntry, STRATEGY_NAMES, type ClientEntry } from '../experiment/clients.js';
import { Engine, FAULT_SUFFIX } from '../experiment/engine.js';
import { Recorder } from '../experiment/recording.js';
import type { Scenario } from '../experiment/scenario.js';
import { Session } from '../experiment/session.js';
import type { Manifests } from '../manifests.js';
import type { Out } from '../out.js';
import {
  htmlOption,
  intervalOption,
  jsonOption,
  manifestOption,
  phaseSecondsOption,
  podCidrOption,
  scenarioOption,
} from './options.js';
import { sayMeshEvents } from './mesh-words.js';
import { Progress } from './progress.js';
import { startFailure } from './start-errors.js';

export interface CompareOptions {
  scenario: Scenario;
  strategies: string[];
  phaseMs: number | undefined;
  intervalMs: number | undefined;
  rate: number | undefined;
  deadlineMs: number | undefined;
  connectionAgeMs: number;
  latencySeconds: number;
  latencyRounds: number;
  latencyRate: number;
  json: string | undefined;
  html: string | undefined;
  manifest: Manifests;
  podCidr: string;
}

const DIRECT = 'direct to a pod';

export async function compare(options: CompareOptions, programs: Out): Promise<number> {
  const progress = new Progress();
  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const entries = options.strategies.map(clientEntry);
  const session = new Session({
    programs,
    manifest: options.manifest.objects,
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
  const pace = {
    intervalMs: options.rate === undefined ? (options.intervalMs ?? scenario.clients.intervalMs ?? 100) : undefined,
    rate: options.rate ?? (options.intervalMs === undefined ? scenario.clients.rate : undefined),
    deadlineMs: options.deadlineMs ?? scenario.clients.deadlineMs,
  };
  const added = new Map<string, AddedLatency | { unavailable: string }>();
  const stopTracing = recorder.traceEndpoints();
  let failure: unknown;
  let started = false;
  try {
    await session.start(new Set(entries.flatMap((entry) => entry.parts)), 1);
    started = true;
    // Said once it runs: a start that fails is one line, the failure's.
    for (const note of options.manifest.notes) progress.event(`lab: ${note}`);
    for (const [name, mesh] of session.parts.meshes) {
      sayMeshEvents(name, mesh, (line) => progress.event(`  ${line}`));
      mesh.on('endpoints', ({ ips, at }) => recorder.seen(`mesh:${name}`, ips, at));
      mesh.on('connected', ({ ip }) => recorder.connected(`mesh:${name}`, ip, epochNow()));
    }
    progress.event(
      `compare: ${entries.length} strategies, scenario ${scenario.name} (${scenario.file}); pods in ${options.podCidr}`,
    );
    await session.firstPods(deployments, abort.signal);
    session.startClients(entries, pace, recorder);
    await session.firstReplies(abort.signal).catch((error: unknown) => {
      if (abort.signal.aborted) throw error;
      progress.event(`compare: going on without waiting: ${errorText(error)}`);
    });
    const engine = new Engine(session.cluster.store, recorder, {
      namespace: NAMESPACE,
      deployments,
      signal: abort.signal,
      progress,
      phaseMs: options.phaseMs,
    });
    await engine.run(scenario);
    for (const { entry, workload } of session.clients) {
      const client = costOf(workload.pid);
      const edge = entry.name === 'edge' ? costOf(session.parts.edge?.pid) : undefined;
      const record = recorder.recording.clients.find((c) => c.name === entry.name);
      if (client && record)
        record.cost = { cpuMs: client.cpuMs + (edge?.cpuMs ?? 0), rssMiB: client.rssMiB + (edge?.rssMiB ?? 0) };
    }
    progress.status('stopping the clients …');
    await Promise.all(session.clients.map(({ workload }) => workload.stop()));
    if (options.latencySeconds > 0)
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
    connectionAgeMs: options.connectionAgeMs,
    latency: { rate: options.latencyRate, seconds: options.latencySeconds, rounds: options.latencyRounds },
  };
  const { recording } = recorder;
  const results = summarize(recording, entries, added);
  const rollout = summarizeRollout(recording, entries);
  const faults = summarizeFaults(recording, entries, settings.deadlineMs);
  const fault = faultOf(recording);
  // The tables the scenario gives figures for: the scale-up's, the rollout's, the bad pod's.
  const sections: string[] = [];
  if (phaseWith(recording, 'scale-up')) sections.push(compareTable(results, settings));
  if (rollout) sections.push(rolloutTable(rollout));
  if (faults && fault) sections.push(faultTable(faults, fault.kind, settings));
  console.log(sections.length > 0 ? sections.join('\n\n') : compareTable(results, settings));
  try {
    const json = compareJson(results, recording, settings, {
      ...(rollout && { rollout }),
      ...(faults && fault && { faults: { kind: fault.kind, results: faults } }),
    });
    if (options.json) writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
    if (options.html) writeFileSync(options.html, page(recording, results, rollout, faults));
  } catch (error) {
    console.error(`lab compare: cannot write the report: ${errorText(error)}`);
    return 1;
  }
  const judged = [...(phaseWith(recording, 'scale-up') ? results : []), ...(rollout ?? []), ...(faults ?? [])];
  return judged.every((r) => r.ok !== false) ? 0 : 1;
}

/** client-grpc's own default deadline, when neither the scenario nor --deadline-ms sets one. */
const DEFAULT_DEADLINE_MS = 5000;

/** The page: the table of the scenario's main figures, and a chart per strategy. */
function page(
  recording: Recorder['recording'],
  results: StrategyResult[],
  rollout: RolloutResult[] | undefined,
  faults: FaultResult[] | undefined,
): string {
  if (faults) {
    const header = ['strategy', 'OK within deadline %', 'p50 ms', 'p99 ms', 'p99.9 ms', 'to bad pod %', 'failed'];
    const rows = faults.map((r) => ({
      name: r.name,
      ok: r.ok,
      how: r.how,
      notes: r.notes,
      cells: [
        r.success === null ? '—' : (r.success * 100).toFixed(1),
        String(r.p50 ?? '—'),
        String(r.p99 ?? '—'),
        String(r.p999 ?? '—'),
        r.badShare === null ? '—' : (r.badShare * 100).toFixed(1),
        String(r.failed ?? '—'),
      ],
    }));
    return comparePage(header, rows, recording);
  }
  if (rollout) {
    const header = ['strategy', 'failed during', 'pods after', 'Jain after', 'even after s', 'Jain later'];
    const rows = rollout.map((r) => ({
      name: r.name,
      ok: r.ok,
      how: r.how,
      notes: r.notes,
      cells: [
        String(r.failedDuring ?? '—'),
        r.podsReached === null ? '—' : `${r.podsReached}/${r.pods}`,
        String(r.jainAfter ?? '—'),
        r.evenAfterMs === null ? 'never' : (r.evenAfterMs / 1000).toFixed(1),
        String(r.jainLater ?? '—'),
      ],
    }));
    return comparePage(header, rows, recording);
  }
  return comparePage(PAGE_COLUMNS, results.map(pageRow), recording);
}

const PAGE_COLUMNS = [
  'strategy',
  'pods',
  'Jain',
  'first call ms',
  'failed kill / down',
  'added p50 ms',
  'added p99 ms',
  'CPU ms',
  'RSS MiB',
];

function pageRow(r: StrategyResult): PageRow {
  return {
    name: r.name,
    ok: r.ok,
    how: r.how,
    notes: r.notes,
    cells: [
      r.podsReached === null ? '—' : `${r.podsReached}/${r.pods}`,
      r.jain?.toFixed(2) ?? '—',
      r.firstCallMs ? `${r.firstCallMs.median} / ${r.firstCallMs.max}` : '—',
      r.failed ? `${r.failed.kill} / ${r.failed.scaleDown}` : '—',
      r.addedMs ? addedText(r.addedMs.p50, r.addedMs.p50Range) : '—',
      r.addedMs ? addedText(r.addedMs.p99, r.addedMs.p99Range) : '—',
      String(r.cpuMs ?? '—'),
      String(r.rssMiB ?? '—'),
    ],
  };
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
  const running = session.running;
  const direct = session.cluster.endpoints('addr-server').list()[0];
  if (!running || !direct) return;
  const paths: LatencyPath[] = [{ name: DIRECT, target: `${direct.address}:${direct.grpcPort}`, lb: 'pick_first' }];
  for (const { entry } of session.clients) {
    const call = entry.call(running);
    if ('unavailable' in call) continue;
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
    strategies: {
      type: 'string',
      default: STRATEGY_NAMES.join(','),
      describe: 'which strategies to run, comma-separated',
      coerce: (value: string) => {
        const names = value
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean);
        const unknown = names.filter((name) => !(STRATEGY_NAMES as readonly string[]).includes(name));
        if (names.length === 0 || unknown.length > 0) {
          throw new Error(
            `--strategies: unknown ${unknown.join(', ') || '(none given)'}; choose from ${STRATEGY_NAMES.join(', ')}`,
          );
        }
        return names;
      },
    },
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
    ...jsonOption('also write the figures as JSON to this file'),
    ...htmlOption('also write a page with a chart per strategy to this file'),
    ...manifestOption(out.file('k8s/server.yml')),
    ...podCidrOption,
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
      if (argv.rate !== undefined && argv.interval !== undefined) {
        console.error('lab compare: give --rate or --interval, not both (see --help)');
        process.exit(EXIT_USAGE);
      }
      const code = await compare(
        {
          scenario: argv.scenario,
          strategies: argv.strategies,
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
          podCidr: argv['pod-cidr'],
        },
        out,
      );
      process.exit(code);
    },
  };
}
