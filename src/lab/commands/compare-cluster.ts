// `out/lab compare --cluster`: the same scenario, on a cluster where the strategies were deployed
// (`skaffold run -p compare`, or kubectl apply of k8s/strategies), through @kubernetes/client-node and only
// what any API server offers: the steps scale, restart, set env on and delete the pods of the server
// Deployments, and create or delete a fault Deployment beside them, all in one namespace (nothing outside it
// is read or touched); the pods' timeline comes from a watch; every client's calls from its pods' logs (the
// CallRecords it prints with --output jsonl). The clients call as they are deployed (--rate 50): the lab's
// pace flags do not apply. What the lab measures in its own process — each client's CPU and memory, the
// latency probe, the data plane's hops — a cluster's API does not show: those figures are "—".
import { errorText, EXIT_USAGE } from '../../common/cli.js';
import { apiErrorText } from '../../common/kube-api.js';
import { onShutdown } from '../../common/shutdown.js';
import { epochNow } from '../../common/trace.js';
import type { KubeObject } from '../api/store.js';
import { NAMESPACE } from '../cluster.js';
import { UNJUDGED_EDGE } from '../compare/faults.js';
import type { ReportSettings } from '../compare/report.js';
import { specOf, type DeploymentSpec } from '../controllers/objects.js';
import { ClientLogs } from '../experiment/client-logs.js';
import { clientEntry, CLUSTER_STRATEGIES, type ClientEntry } from '../experiment/clients.js';
import { Engine, FAULT_LABEL, FAULT_SUFFIX } from '../experiment/engine.js';
import { KubeClient } from '../experiment/kube-client.js';
import { PodWatch, podEventText } from '../experiment/pod-watch.js';
import { Recorder, type Recording } from '../experiment/recording.js';
import { CONNECTION_AGE, STRATEGY_LABEL } from '../experiment/strategy-folders.js';
import type { ClusterTarget, CompareOptions } from './compare-options.js';
import { DEFAULT_DEADLINE_MS, printResults } from './compare-results.js';
import { Progress } from './progress.js';

/**
 * On a cluster the mesh is the proxy injected into the client's pod: Linkerd's, p2c over peak EWMA
 * (https://linkerd.io/docs/features/load-balancing/), so the mesh is judged as the lab's mesh-p2c is.
 */
const onCluster = (entry: ClientEntry): ClientEntry =>
  entry.route === 'mesh'
    ? {
        ...entry,
        how: `its pod meshed (linkerd.io/inject: enabled): the mesh's proxy picks a pod per call${entry.name === 'mesh-accrual' ? ', failure accrual on for its Service' : ''}`,
        expect: 'cheapest-pods',
        ...(entry.name === 'mesh' && { judgedAs: 'mesh-p2c' }),
      }
    : entry.route === 'edge'
      ? {
          ...entry,
          how: 'an L7 proxy at the edge (Envoy Gateway: a Gateway and a GRPCRoute), a pod per call',
          judgedAs: UNJUDGED_EDGE,
        }
      : entry;

export async function compareOnCluster(options: CompareOptions, target: ClusterTarget): Promise<number> {
  const { scenario } = options;
  // A hung process is the lab's to make: no API sends a pod's process SIGSTOP.
  const hang = scenario.steps.find((step) => step.action === 'stop' || step.action === 'continue');
  if (hang) {
    console.error(
      `lab compare: ${scenario.file}:${hang.line}: step ${hang.index} (${hang.action}) hangs a pod's process with SIGSTOP, which no Kubernetes API can do: scenario ${scenario.name} runs only in the lab (see --help)`,
    );
    return EXIT_USAGE;
  }
  const variants = options.strategies.filter((name) => !CLUSTER_STRATEGIES.includes(name));
  if (variants.length > 0) {
    console.error(
      `lab compare: ${variants.join(', ')}: a variant the lab makes of another strategy's client, with no Deployment of its own; on a cluster: ${CLUSTER_STRATEGIES.join(', ')} (see --help)`,
    );
    return EXIT_USAGE;
  }
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  try {
    if (target.kubeconfig) config.loadFromFile(target.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    console.error(`lab compare: the kubeconfig: ${errorText(error)}`);
    return 1;
  }
  if (target.context) {
    if (!config.getContexts().some((context) => context.name === target.context)) {
      console.error(
        `lab compare: --context ${target.context}: the kubeconfig has no such context (it has ${
          config
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        }) (see --help)`,
      );
      return EXIT_USAGE;
    }
    config.setCurrentContext(target.context);
  }
  const context = config.getCurrentContext();
  const server = config.getCurrentCluster()?.server;
  if (!server || context === 'loaded-context') {
    console.error('lab compare: no kubeconfig: set KUBECONFIG, write ~/.kube/config, or give --kubeconfig');
    return 1;
  }
  const namespace = target.namespace ?? config.getContextObject(context)?.namespace ?? NAMESPACE;
  const progress = new Progress();
  const api = new KubeClient(k8s, config, namespace, (resource, error) =>
    progress.event(`compare: watching ${resource} failed (${apiErrorText(error)}); watching again`),
  );
  const entries = options.strategies.map(clientEntry).map(onCluster);
  const deployments = [...new Set(entries.map((entry) => entry.deployment))];

  // What the scenario needs must be there: the server Deployments and each strategy's client.
  let clients: Map<string, KubeObject>;
  let aged: KubeObject | undefined;
  try {
    clients = await findClients(api, entries, deployments);
    aged = await api.getDeployment('addr-server-aged');
  } catch (error) {
    console.error(
      `lab compare: ${error instanceof Refusal ? error.message : `the cluster's API at ${server}: ${apiErrorText(error)}`}`,
    );
    return 1;
  }
  const settings = settingsOf(options, [...clients.values()], aged, {
    context,
    namespace,
  });

  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const recorder = new Recorder(
    { name: scenario.name, file: scenario.file, description: scenario.description },
    deployments,
  );
  const pods = new PodWatch(api);
  const servers = (deployment: string) =>
    (deployments as readonly string[]).includes(deployment) || deployment.endsWith(FAULT_SUFFIX);
  recorder.follow(pods, (deployment) => deployment.endsWith(FAULT_SUFFIX), servers);
  // When each Service's EndpointSlices listed a pod as ready: the first hop the API shows.
  const slices = api.watch('endpointslices', (type, slice) => {
    const service = slice.metadata.labels?.['kubernetes.io/service-name'];
    if (!service || type === 'DELETED') return;
    const ready = ((slice.endpoints ?? []) as Array<{ addresses?: string[]; conditions?: { ready?: boolean } }>)
      .filter((endpoint) => endpoint.conditions?.ready !== false)
      .flatMap((endpoint) => endpoint.addresses?.slice(0, 1) ?? []);
    recorder.seen(`slice:${service}`, ready, epochNow());
  });
  const logs = new ClientLogs(
    k8s,
    config,
    api,
    entries.map((entry) => ({ name: entry.name, deployment: clients.get(entry.name) as KubeObject })),
    {
      since: recorder.recording.startedAt,
      onCall: (() => {
        const calls = new Map(entries.map((entry) => [entry.name, recorder.client(entry.name).call]));
        return (name: string, call) => calls.get(name)?.(call);
      })(),
      say: (line) => progress.event(line),
    },
  );
  let failure: unknown;
  try {
    progress.event(
      `compare: on the cluster ${server} (context ${context}), namespace ${namespace}: ${entries.length} strategies, scenario ${scenario.name} (${scenario.file})`,
    );
    if (
      scenario.clients.rate !== undefined ||
      scenario.clients.intervalMs !== undefined ||
      scenario.clients.deadlineMs !== undefined
    )
      progress.event(
        `compare: on the cluster the clients call as deployed (their pace and their own deadline)` +
          (scenario.clients.deadlineMs === undefined
            ? ''
            : `; a call counts as answered in time within the scenario's ${scenario.clients.deadlineMs} ms, from its record`),
      );
    pods.start();
    pods.on('pod', (event) => {
      const text = servers(event.deployment) ? podEventText(event) : undefined;
      if (text) progress.event(`  ${event.deployment === 'addr-server' ? '' : `${event.deployment}: `}${text}`);
    });
    logs.start();
    await removeFaults(api, deployments, 'an earlier run left', progress);
    await firstCalls(logs, entries, abort.signal, progress);
    const engine = new Engine(api, recorder, { deployments, signal: abort.signal, progress, phaseMs: options.phaseMs });
    await engine.run(scenario);
    await logsCaughtUp(
      entries,
      recorder.recording,
      Math.max(settings.deadlineMs, DEFAULT_DEADLINE_MS),
      abort.signal,
      progress,
    );
  } catch (error) {
    failure = error;
  } finally {
    logs.stop();
    slices.stop();
    pods.stop();
    // A faulty pod left in the Service would be in every later run's numbers: it goes with the run.
    await removeFaults(api, deployments, 'the scenario added', progress).catch((error: unknown) =>
      progress.event(`compare: could not delete the faulty Deployments (${apiErrorText(error)})`),
    );
    progress.done();
  }
  if (abort.signal.aborted) {
    console.error(
      `lab compare: interrupted; the cluster keeps the scale and env the scenario last set (kubectl -n ${namespace} get deploy)`,
    );
    return 130;
  }
  if (failure) {
    const text = (failure as { code?: unknown }).code !== undefined ? apiErrorText(failure) : errorText(failure);
    console.error(`lab compare: ${text}`);
    return 1;
  }
  return printResults(recorder.recording, entries, new Map(), settings, options);
}

class Refusal extends Error {}

/**
 * Deletes the faulty Deployments a scenario's fault step makes (DEPLOYMENT-fault, labelled
 * grpc-lb.io/fault: engine.ts, faultDeployment) beside each server Deployment, saying which went.
 */
async function removeFaults(
  api: KubeClient,
  deployments: readonly string[],
  why: string,
  progress: Progress,
): Promise<void> {
  for (const name of deployments) {
    const fault = await api.getDeployment(`${name}${FAULT_SUFFIX}`);
    if (fault?.metadata.labels?.[FAULT_LABEL] !== 'true') continue;
    await api.deleteDeployment(fault.metadata.name);
    progress.event(`compare: deleted the Deployment ${fault.metadata.name}, the faulty pods ${why}`);
  }
}

/** Each strategy's client Deployment, by strategy; a Refusal naming the first that is missing. */
async function findClients(
  api: KubeClient,
  entries: readonly ClientEntry[],
  deployments: readonly string[],
): Promise<Map<string, KubeObject>> {
  const where = `namespace ${api.namespace}`;
  for (const name of deployments) {
    if (!(await api.getDeployment(name))) {
      throw new Refusal(
        `no Deployment ${name} in ${where}: deploy the strategies first (kubectl apply -n ${api.namespace} -f k8s/server.yml -R -f k8s/strategies/, or skaffold run -n ${api.namespace} -p compare)`,
      );
    }
  }
  const labelled = await api.listDeployments(STRATEGY_LABEL);
  const clients = new Map<string, KubeObject>();
  for (const entry of entries) {
    const found = labelled.find((d) => d.metadata.annotations?.[STRATEGY_LABEL] === entry.name);
    const profile = entry.name.replace('+', '-');
    if (!found) {
      throw new Refusal(
        `no client Deployment for the strategy ${entry.name} in ${where} (one annotated ${STRATEGY_LABEL}: "${entry.name}", as k8s/strategies/${profile} has it): deploy it first (skaffold run -n ${api.namespace} -p ${profile})`,
      );
    }
    clients.set(entry.name, found);
  }
  return clients;
}

/** The value of a flag among a container's args (--rate 50, --rate=50). */
function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]?.startsWith(`${flag}=`)) return args[i]?.slice(flag.length + 1);
  }
  return undefined;
}

/** What the report says of the run: the clients' pace as deployed, the aged servers' age, where it ran. */
function settingsOf(
  options: CompareOptions,
  clients: readonly KubeObject[],
  aged: KubeObject | undefined,
  cluster: { context: string; namespace: string },
): ReportSettings {
  const args = clients.map((client) => specOf<DeploymentSpec>(client).template.spec.containers[0]?.args ?? []);
  const first = (flag: string) => args.map((a) => flagValue(a, flag)).find((value) => value !== undefined);
  const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  const age = aged
    ? specOf<DeploymentSpec>(aged).template.spec.containers[0]?.env?.find((e) => e.name === CONNECTION_AGE)?.value
    : undefined;
  const rate = number(first('--rate'));
  return {
    scenario: options.scenario.name,
    // A scenario's deadline (250 ms with a slow pod) is what its figures are judged against: a call that
    // took longer counts as not answered within it, whatever deadline the deployed client gave up at.
    deadlineMs: options.scenario.clients.deadlineMs ?? number(first('--deadline-ms')) ?? DEFAULT_DEADLINE_MS,
    rate,
    intervalMs: rate === undefined ? (number(first('--interval')) ?? 1000) : undefined,
    connectionAgeMs: number(age),
    latency: { rate: options.latencyRate, seconds: 0, rounds: 0 },
    cluster,
  };
}

/** Resolves once every client's log has shown an answered call (bounded: then the run goes on, and says who had none). */
async function firstCalls(
  logs: ClientLogs,
  entries: readonly ClientEntry[],
  signal: AbortSignal,
  progress: Progress,
  timeoutMs = 60_000,
): Promise<void> {
  const started = performance.now();
  for (;;) {
    const waiting = entries.filter((entry) => (logs.counts.get(entry.name)?.answered ?? 0) === 0);
    if (waiting.length === 0) {
      progress.event(`compare: answered calls in the logs of all ${entries.length} clients`);
      return;
    }
    if (signal.aborted) throw new Error('interrupted');
    if (performance.now() - started > timeoutMs) {
      progress.event(
        `compare: going on without waiting: no answered call in ${timeoutMs / 1000} s in the logs of ${waiting.map((e) => e.name).join(', ')} (kubectl -n NS logs deploy/addr-client-NAME)`,
      );
      return;
    }
    progress.status(`reading the clients' logs (${waiting.length} of ${entries.length} without an answer yet) …`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Resolves once every client's log has shown a call started after the last phase ended. A client writes
 * its records in the order its calls started, so a call that takes long holds back the lines after it: the
 * last phase's records arrive up to a deadline late. Bounded by the deadline and a few seconds more.
 */
async function logsCaughtUp(
  entries: readonly ClientEntry[],
  recording: Recording,
  deadlineMs: number,
  signal: AbortSignal,
  progress: Progress,
): Promise<void> {
  // Both in ms from the run's start, as the recording keeps them.
  const end = Math.max(0, ...recording.phases.map((phase) => phase.to));
  // A client writes its records in the order its calls started: its last record is its latest call.
  const lastStarted = (name: string) =>
    recording.clients.find((client) => client.name === name)?.calls.at(-1)?.[0] ?? 0;
  const started = performance.now();
  const boundMs = deadlineMs + 5000;
  for (;;) {
    const behind = entries.filter((entry) => lastStarted(entry.name) < end);
    if (behind.length === 0 || signal.aborted) return;
    if (performance.now() - started > boundMs) {
      progress.event(
        `compare: the logs of ${behind.map((e) => e.name).join(', ')} showed no call after the last phase within ${boundMs / 1000} s: their last records may be missing`,
      );
      return;
    }
    progress.status(`reading the last of the clients' logs (${behind.length} of ${entries.length} behind) …`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
