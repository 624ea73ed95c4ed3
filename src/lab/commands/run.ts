// `out/lab run` (the default, = npm start): the post's experiment on the emulated cluster — its scenario
// (scenarios/post.yml) with its clients — then a table per phase and a verdict per client; exits 0 only
// if the lab saw what the post saw.
import { writeFileSync } from 'node:fs';
import type { CommandModule, InferredOptionTypes } from 'yargs';
import { errorText } from '../../common/cli.js';
import { onShutdown } from '../../common/shutdown.js';
import type { BalancerName } from '../data-plane/balancer.js';
import { clientEntry, POST_CLIENTS } from '../experiment/clients.js';
import { Engine } from '../experiment/engine.js';
import { Recorder } from '../experiment/recording.js';
import type { Scenario } from '../experiment/scenario.js';
import { Session } from '../experiment/session.js';
import type { Manifests } from '../manifests.js';
import type { Out } from '../out.js';
import type { Programs } from '../node/images.js';
import { reportJson, reportText } from '../run/report.js';
import { judgeable, JUDGED_PHASES, verdicts } from '../run/verdicts.js';
import { tallies } from '../run/view.js';
import {
  apiPortOption,
  intervalOption,
  jsonOption,
  manifestOption,
  meshBalancerOption,
  phaseSecondsOption,
  podCidrOption,
  portOptions,
  scenarioOption,
} from './options.js';
import { sayMeshEvents } from './mesh-words.js';
import { Progress } from './progress.js';
import { clusterPortFlags, startFailure } from './start-errors.js';

export interface RunOptions {
  scenario: Scenario;
  meshBalancer: BalancerName;
  /** every phase this long instead of the scenario's (ms) */
  phaseMs: number | undefined;
  interval: number;
  json: string | undefined;
  ports: { api: number; http: number; grpc: number; mesh: number };
  manifest: Manifests;
  podCidr: string;
  /** whether pods get addresses of their own (found out when absent) */
  ownPodAddresses: boolean | undefined;
}

export async function run(options: RunOptions, programs: Programs): Promise<number> {
  const progress = new Progress();
  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const phaseNames = options.scenario.steps.flatMap((step) => (step.action === 'count' ? [step.phase] : []));
  const judged = judgeable(phaseNames);
  if (!judged) {
    progress.event(
      `lab: scenario ${options.scenario.name} counts no phase named "${JUDGED_PHASES.join('" or "')}": ` +
        `its tables, without the post's verdicts (out/lab compare --scenario judges any scenario)`,
    );
  }
  // With Linkerd's balancer the in-mesh client is judged as compare's mesh-p2c is: a new pod may wait.
  const entries = POST_CLIENTS.map(clientEntry).map((entry) =>
    entry.route === 'mesh' && options.meshBalancer === 'p2c-ewma'
      ? { ...entry, expect: 'cheapest-pods' as const }
      : entry,
  );
  const session = new Session({
    programs,
    manifest: options.manifest.objects,
    podCidr: options.podCidr,
    ports: options.ports,
    meshBalancer: options.meshBalancer,
    progress,
    ownPodAddresses: options.ownPodAddresses,
  });
  const recorder = new Recorder(
    { name: options.scenario.name, file: options.scenario.file, description: options.scenario.description },
    session.deployments(entries),
  );
  recorder.follow(session.pods, () => false);
  let failure: unknown;
  let started = false;
  try {
    const running = await session.start({ hostParts: new Set(entries.flatMap((entry) => entry.host?.parts ?? [])) });
    started = true;
    // Said once it runs: a start that fails (a taken port) is one line, the failure's.
    for (const note of options.manifest.notes) progress.event(`lab: ${note}`);
    for (const [name, mesh] of session.parts.meshes) sayMeshEvents(name, mesh, (line) => progress.event(`  ${line}`));
    if (!session.cluster.network.ownAddresses) {
      progress.event(
        'lab: this machine has no loopback addresses besides 127.0.0.1, so pods listen on 127.0.0.1 on ports of their own; pod IPs are labels',
      );
    }
    progress.event(
      `lab: Service addr-server on 127.0.0.1:${running.service.http} (HTTP), :${running.service.grpc} (gRPC); ` +
        `mesh :${running.mesh}; API :${session.cluster.api.port}`,
    );
    await session.firstPods(recorder.recording.deployments, abort.signal);
    await session.startClients(entries, 'host', { intervalMs: options.interval }, recorder);
    await session.firstReplies(abort.signal);
    progress.event(`first answers from all ${session.clients.length} clients`);
    const engine = new Engine(session.api, recorder, {
      deployments: recorder.recording.deployments,
      signal: abort.signal,
      progress,
      phaseMs: options.phaseMs,
    });
    await engine.run(options.scenario);
  } catch (error) {
    failure = error;
  } finally {
    progress.done();
    if (started) progress.event('lab: stopping the clients, the pods and the proxies');
    await session.stop();
  }
  if (abort.signal.aborted) {
    console.error('lab: interrupted; everything it started has stopped');
    return 130;
  }
  if (failure) {
    console.error(`lab: ${startFailure(failure, clusterPortFlags(options.ports))}`);
    return 1;
  }
  const phases = tallies(recorder.recording, entries);
  const result = judged ? verdicts(phases) : undefined;
  console.log(reportText(phases, result));
  if (options.json) {
    try {
      writeFileSync(options.json, `${JSON.stringify(reportJson(phases, result), null, 2)}\n`);
    } catch (error) {
      console.error(`lab: cannot write ${options.json}: ${errorText(error)}`);
      return 1;
    }
  }
  return result === undefined || result.ok ? 0 : 1;
}

const runOptions = (out: Out) =>
  ({
    ...scenarioOption(out.file, 'post', "the scenario: a built-in one's name (post, rollout, …) or a file of steps"),
    ...phaseSecondsOption,
    ...intervalOption(1000, "milliseconds between each client's calls"),
    ...jsonOption('also write the report as JSON to this file'),
    ...meshBalancerOption,
    ...portOptions,
    ...apiPortOption(0),
    ...manifestOption(out.file('k8s/server.yml')),
    ...podCidrOption,
    'pod-addresses': {
      type: 'boolean',
      hidden: true,
      describe: 'whether pods get addresses of their own (found out when absent: only 127.0.0.1 on macOS)',
    },
  }) as const;

export function runCommand(out: Out): CommandModule<object, InferredOptionTypes<ReturnType<typeof runOptions>>> {
  return {
    command: ['run', '$0'],
    describe: 'replay the post (1 replica → 5 → 2) and check that what the clients see matches it',
    builder: runOptions(out),
    handler: async (argv) => {
      const code = await run(
        {
          scenario: argv.scenario,
          meshBalancer: argv['mesh-balancer'],
          phaseMs: argv['phase-seconds'] === undefined ? undefined : argv['phase-seconds'] * 1000,
          interval: argv.interval,
          json: argv.json,
          ports: {
            api: argv['api-port'],
            http: argv['http-node-port'],
            grpc: argv['grpc-node-port'],
            mesh: argv['mesh-port'],
          },
          manifest: argv.manifest,
          podCidr: argv['pod-cidr'],
          ownPodAddresses: argv['pod-addresses'],
        },
        out,
      );
      process.exit(code);
    },
  };
}
