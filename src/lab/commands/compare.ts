// `out/lab compare`: every fix for gRPC balancing, measured side by side in one run. Each strategy is
// one real client-grpc process (with its own target, policy and environment), all running together
// against the same Deployment(s), scaled by the same script: 1 replica → 5 → (rollout complete) count →
// SIGKILL one pod → count → scale to 2 → count. Then a latency probe per strategy. The figures come
// from what was recorded (compare/summary.ts); the report and the page from the figures.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorText } from '../../common/cli.js';
import { onShutdown } from '../../common/shutdown.js';
import type { Manifest } from '../control-plane/manifest.js';
import { costOf } from '../compare/cost.js';
import { Fleets } from '../compare/fleets.js';
import type { ProbeResult } from '../compare/probe.js';
import { STRATEGIES, type Fleet } from '../compare/strategies.js';
import { summarize, type PhaseName, type Recording, type StrategyRecord } from '../compare/summary.js';
import { Workload } from '../workloads/workload.js';
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

export async function compare(options: CompareOptions, bins: CompareBins): Promise<number> {
  const progress = new Progress();
  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const started = performance.now();
  const now = () => performance.now() - started;
  const strategies = STRATEGIES.filter((s) => options.strategies.includes(s.name));

  const k8sResolver = /k8s:\/\//.test(spawnSync(process.execPath, [bins.clientGrpc, '--help'], { encoding: 'utf8' }).stdout ?? '');
  const fleets = new Fleets({
    serverBin: bins.server, clientGrpc: bins.clientGrpc, manifest: options.manifest,
    connectionAgeMs: options.connectionAgeMs, podCidrs: options.podCidrs, k8sResolver,
  });
  const recording: Recording = {
    phases: [],
    events: [],
    fleets: { plain: { readyAt: {}, scaledAt: 0, podsAfterRollout: [] }, aged: { readyAt: {}, scaledAt: 0, podsAfterRollout: [] } },
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

  const workloads: Array<{ workload: Workload; record: StrategyRecord }> = [];
  let failure: unknown;
  try {
    await fleets.start();
    const { plain, aged } = fleets.clusters;
    progress.event(`compare: ${strategies.length} strategies; pods in ${options.podCidrs.plain} (plain) and ${options.podCidrs.aged} (connection age ${options.connectionAgeMs} ms)`);
    progress.status('starting 1 pod in each Deployment …');
    await bounded(Promise.all([plain.deployment.waitReady(1), aged.deployment.waitReady(1)]), abort.signal, STARTUP_TIMEOUT_MS, 'starting the first pods');

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
      workloads.push({ workload, record });
    }
    progress.status('waiting for the first replies …');
    const firstReplies = workloads.map(({ workload }) => new Promise((resolve) => workload.once('reply', resolve)));
    await bounded(Promise.all(firstReplies), abort.signal, STARTUP_TIMEOUT_MS, "the clients' first replies").catch((error: unknown) => {
      if (abort.signal.aborted) throw error;
      const silent = workloads.filter(({ record }) => record.replies.length === 0).map(({ record }) => record.strategy.name);
      event(`no reply yet from ${silent.join(', ')}: going on without waiting`);
    });
    event(`first replies from ${workloads.filter(({ record }) => record.replies.length > 0).length} of ${workloads.length} clients`);

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
    await bounded(Promise.all([plain.deployment.waitReady(5), aged.deployment.waitReady(5)]), abort.signal, ROLLOUT_TIMEOUT_MS, 'the rollout to 5');
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
      if (client) record.cost = { cpuMs: client.cpuMs + (edge?.cpuMs ?? 0), rssMiB: client.rssMiB + (edge?.rssMiB ?? 0) };
    }
    progress.status('stopping the clients …');
    await Promise.all(workloads.map(({ workload }) => workload.stop()));

    if (options.latencySeconds > 0) {
      const directPod = plain.deployment.endpoints.list()[0];
      const probeOf = (target: string, lb: string, env: Record<string, string> = {}) =>
        runProbe(bins.lab, target, lb, options, env, abort.signal);
      if (directPod) {
        progress.status(`latency: direct to pod ${directPod.ip} at ${options.latencyRate} calls/s …`);
        const direct = await probeOf(`${directPod.address}:${directPod.grpcPort}`, 'pick_first');
        if ('p50' in direct) recording.direct = { p50: direct.p50, p99: direct.p99 };
      }
      for (const { record } of workloads) {
        const client = fleets.client(record.strategy);
        if ('unavailable' in client) continue;
        if (client.spec.target.startsWith('k8s:')) {
          record.latency = { unavailable: 'the probe has no k8s:/// resolver' };
          continue;
        }
        progress.status(`latency: ${record.strategy.name} at ${options.latencyRate} calls/s …`);
        const lb = client.spec.args?.includes('round_robin') ? 'round_robin' : 'pick_first';
        const result = await probeOf(client.spec.target, lb, client.spec.env);
        record.latency = 'p50' in result ? { p50: result.p50, p99: result.p99 } : result;
      }
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
    if (options.json) writeFileSync(options.json, `${JSON.stringify(compareJson(results, recording, options), null, 2)}\n`);
    if (options.html) writeFileSync(options.html, comparePage(results, recording));
  } catch (error) {
    console.error(`lab compare: cannot write the report: ${errorText(error)}`);
    return 1;
  }
  return results.every((r) => r.ok !== false) ? 0 : 1;
}

/** Runs `lab probe` with the strategy's environment; its figures, or why there are none. */
async function runProbe(
  lab: string,
  target: string,
  lb: string,
  options: Pick<CompareOptions, 'latencyRate' | 'latencySeconds'>,
  env: Record<string, string>,
  signal: AbortSignal,
): Promise<ProbeResult | { unavailable: string }> {
  const child = spawn(
    process.execPath,
    [lab, 'probe', target, '--lb', lb, '--rate', String(options.latencyRate), '--seconds', String(options.latencySeconds)],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], signal },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), (options.latencySeconds + 30) * 1000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve)).finally(() => clearTimeout(timer));
  try {
    if (code === 0) return JSON.parse(out) as ProbeResult;
  } catch {
    // falls through
  }
  return { unavailable: `the probe failed: ${(err.trim().split('\n').at(-1) ?? '') || `exit ${code}`}` };
}
