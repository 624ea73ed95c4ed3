// `out/lab compare`: every fix for gRPC balancing, measured side by side in one run. Each strategy is
// one real client-grpc process (with its own target, policy and environment), all running together
// against the same Deployment(s), scaled by the same script: 1 replica → 5 → (rollout complete) count →
// SIGKILL one pod → count → scale to 2 → count. Then a latency probe per strategy. The figures come
// from what was recorded (compare/summary.ts); the report and the page from the figures.
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText } from '../../common/cli.js';
import { onShutdown } from '../../common/shutdown.js';
import type { Manifest } from '../control-plane/manifest.js';
import { costOf } from '../compare/cost.js';
import { Fleets } from '../compare/fleets.js';
import { measureLatency, type LatencyPath } from '../compare/latency.js';
import { STRATEGIES, type Fleet } from '../compare/strategies.js';
import { summarize, type PhaseName, type Recording, type StrategyRecord } from '../compare/summary.js';
import { Workload, type ClientSpec } from '../workloads/workload.js';
import { compareJson, compareTable } from './compare-report.js';
import { comparePage } from './compare-html.js';
import { Progress } from './progress.js';
import { bounded } from './scenario.js';

export interface CompareOptions {
  strategies: string[];
  phaseSeconds: number;
  interval: number;
  connectionAgeMs: number;
  latencySeconds: number;
  latencyRounds: number;
  latencyRate: number;
  json: string | undefined;
  html: string | undefined;
  manifest: Manifest;
  podCidrs: Record<Fleet, string>;
}

export interface CompareBins {
  server: string;
  clientGrpc: string;
  /** out/lab itself, for its `probe` command */
  lab: string;
}

const STARTUP_TIMEOUT_MS = 30_000;
const ROLLOUT_TIMEOUT_MS = 60_000;
const DIRECT = 'direct to a pod';

export async function compare(options: CompareOptions, bins: CompareBins): Promise<number> {
  const progress = new Progress();
  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const started = performance.now();
  const now = () => performance.now() - started;
  const strategies = STRATEGIES.filter((s) => options.strategies.includes(s.name));

  const fleets = new Fleets({
    serverBin: bins.server,
    clientGrpc: bins.clientGrpc,
    manifest: options.manifest,
    connectionAgeMs: options.connectionAgeMs,
    podCidrs: options.podCidrs,
  });
  const recording: Recording = {
    phases: [],
    events: [],
    fleets: {
      plain: { readyAt: {}, scaledAt: 0, podsAfterRollout: [] },
      aged: { readyAt: {}, scaledAt: 0, podsAfterRollout: [] },
    },
    strategies: [],
  };
  const event = (text: string) => {
    recording.events.push({ t: Math.round(now()), text });
    progress.event(text);
  };
  for (const fleet of ['plain', 'aged'] as const) {
    const { deployment } = fleets.clusters[fleet];
    deployment.endpoints.on('change', (ready) => {
      for (const { ip } of ready) recording.fleets[fleet].readyAt[ip] ??= Math.round(now());
    });
    deployment.on('event', (message) => progress.event(`  ${fleet}: ${message}`));
  }

  const workloads: Array<{ workload: Workload; record: StrategyRecord; spec: ClientSpec }> = [];
  let failure: unknown;
  try {
    await fleets.start();
    const { plain, aged } = fleets.clusters;
    progress.event(
      `compare: ${strategies.length} strategies; pods in ${options.podCidrs.plain} (plain) and ${options.podCidrs.aged} (connection age ${options.connectionAgeMs} ms)`,
    );
    progress.status('starting 1 pod in each Deployment …');
    await bounded(
      Promise.all([plain.deployment.waitReady(1), aged.deployment.waitReady(1)]),
      abort.signal,
      STARTUP_TIMEOUT_MS,
      'starting the first pods',
    );

    for (const strategy of strategies) {
      const client = fleets.client(strategy);
      const record: StrategyRecord = { strategy, replies: [], failures: [] };
      recording.strategies.push(record);
      if ('unavailable' in client) {
        record.unavailable = client.unavailable;
        progress.event(`${strategy.name}: not measured: ${client.unavailable}`);
        continue;
      }
      record.shared = client.shared;
      const workload = new Workload(client.spec, options.interval);
      workload.on('reply', (ip) => record.replies.push([Math.round(now()), ip]));
      workload.on('failure', () => record.failures.push(Math.round(now())));
      workloads.push({ workload, record, spec: client.spec });
    }
    progress.status('waiting for the first replies …');
    const firstReplies = workloads.map(({ workload }) => new Promise((resolve) => workload.once('reply', resolve)));
    await bounded(Promise.all(firstReplies), abort.signal, STARTUP_TIMEOUT_MS, "the clients' first replies").catch(
      (error: unknown) => {
        if (abort.signal.aborted) throw error;
        const silent = workloads
          .filter(({ record }) => record.replies.length === 0)
          .map(({ record }) => record.strategy.name);
        event(`no reply yet from ${silent.join(', ')}: going on without waiting`);
      },
    );
    event(
      `first replies from ${workloads.filter(({ record }) => record.replies.length > 0).length} of ${workloads.length} clients`,
    );

    const count = async (name: PhaseName, index: number) => {
      const phase = { name, from: Math.round(now()), to: 0 };
      recording.phases.push(phase);
      for (let left = options.phaseSeconds; left > 0 && !abort.signal.aborted; left--) {
        progress.status(`phase ${index}/4 ${name}: counting, ${left} s left`);
        await sleep(1000, undefined, { signal: abort.signal }).catch(() => undefined);
      }
      phase.to = Math.round(now());
      if (abort.signal.aborted) throw new Error('interrupted');
    };
    const scaleBoth = (replicas: number) => {
      event(`scaling both Deployments to ${replicas} replicas`);
      plain.deployment.scale(replicas);
      aged.deployment.scale(replicas);
    };

    await count('before scaling', 1);
    for (const fleet of ['plain', 'aged'] as const) recording.fleets[fleet].scaledAt = Math.round(now());
    scaleBoth(5);
    progress.status('waiting for the rollout (5 ready pods in each Deployment) …');
    await bounded(
      Promise.all([plain.deployment.waitReady(5), aged.deployment.waitReady(5)]),
      abort.signal,
      ROLLOUT_TIMEOUT_MS,
      'the rollout to 5',
    );
    for (const fleet of ['plain', 'aged'] as const) {
      recording.fleets[fleet].podsAfterRollout = fleets.clusters[fleet].deployment.endpoints.list().map((e) => e.ip);
    }
    event('rollout complete: 5 ready pods in each Deployment');
    await count('scaled up', 2);

    for (const fleet of ['plain', 'aged'] as const) {
      const oldest = fleets.clusters[fleet].deployment.pods[0];
      if (oldest?.pid) {
        event(`SIGKILL pod ${oldest.ip} (${fleet}), the oldest`);
        process.kill(oldest.pid, 'SIGKILL');
      }
    }
    await count('pod killed', 3);
    scaleBoth(2);
    await count('scaled down', 4);

    for (const { workload, record } of workloads) {
      const client = costOf(workload.pid);
      const edge = record.strategy.name === 'edge' ? costOf(fleets.edge?.pid) : undefined;
      if (client)
        record.cost = { cpuMs: client.cpuMs + (edge?.cpuMs ?? 0), rssMiB: client.rssMiB + (edge?.rssMiB ?? 0) };
    }
    progress.status('stopping the clients …');
    await Promise.all(workloads.map(({ workload }) => workload.stop()));

    if (options.latencySeconds > 0) {
      const directPod = plain.deployment.endpoints.list()[0];
      const paths: LatencyPath[] = directPod
        ? [{ name: DIRECT, target: `${directPod.address}:${directPod.grpcPort}`, lb: 'pick_first' }]
        : [];
      for (const { record, spec } of workloads) {
        const lb = spec.args?.includes('round_robin') || spec.target.startsWith('k8s:') ? 'round_robin' : 'pick_first';
        paths.push({ name: record.strategy.name, target: spec.target, lb, env: spec.env });
      }
      const latency = await measureLatency(paths, {
        lab: bins.lab,
        rate: options.latencyRate,
        seconds: options.latencySeconds,
        rounds: options.latencyRounds,
        signal: abort.signal,
        progress: (line) => progress.status(line),
      });
      const direct = latency.get(DIRECT);
      if (direct && 'p50' in direct) recording.direct = direct;
      for (const { record } of workloads) record.latency ??= latency.get(record.strategy.name);
    } else {
      for (const { record } of workloads) record.latency = { unavailable: 'not measured (--latency-seconds 0)' };
    }
  } catch (error) {
    failure = error;
  } finally {
    progress.done();
    await Promise.all(workloads.map(({ workload }) => workload.stop()));
    progress.event('compare: stopping the pods and proxies');
    await fleets.stop();
  }
  if (abort.signal.aborted) {
    console.error('lab compare: interrupted; everything it started has stopped');
    return 130;
  }
  if (failure) {
    console.error(`lab compare: ${errorText(failure)}`);
    return 1;
  }

  const results = summarize(recording);
  console.log(compareTable(results, options));
  try {
    if (options.json)
      writeFileSync(options.json, `${JSON.stringify(compareJson(results, recording, options), null, 2)}\n`);
    if (options.html) writeFileSync(options.html, comparePage(results, recording));
  } catch (error) {
    console.error(`lab compare: cannot write the report: ${errorText(error)}`);
    return 1;
  }
  return results.every((r) => r.ok !== false) ? 0 : 1;
}
