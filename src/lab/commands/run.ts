// `out/lab run` (the default, = npm start): replays the post on the emulated cluster, prints a table
// per phase and a verdict per client, and exits 0 only if the lab saw what the post saw.
import { writeFileSync } from 'node:fs';
import { errorText } from '../../common/cli.js';
import { onShutdown } from '../../common/shutdown.js';
import type { BalancerName } from '../data-plane/balancer.js';
import type { Manifest } from '../control-plane/manifest.js';
import { Cluster, startOrExit, type ClusterPorts } from '../cluster.js';
import { Progress } from './progress.js';
import { pathLabel, phaseTable, reportJson, verdicts } from './report.js';
import { PHASES, runScenario, type Bins } from './scenario.js';

export interface RunOptions {
  meshBalancer: BalancerName;
  phaseSeconds: number;
  interval: number;
  json: string | undefined;
  ports: ClusterPorts;
  manifest: Manifest;
}

export async function run(options: RunOptions, bins: Bins): Promise<number> {
  const progress = new Progress();
  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const cluster = new Cluster(bins.server, options.manifest, options.meshBalancer);
  cluster.deployment.on('event', (message) => progress.event(`  ${message}`));
  await startOrExit(cluster, options.ports, 0);
  const { http, grpc, mesh } = cluster.ports;
  progress.event(`lab: Service addr-server on 127.0.0.1:${http} (HTTP), :${grpc} (gRPC); mesh proxy :${mesh}`);
  cluster.deployment.scale(PHASES[0].replicas);
  let phases;
  let failure: unknown;
  try {
    phases = await runScenario(cluster, progress, { phaseSeconds: options.phaseSeconds, intervalMs: options.interval, bins, signal: abort.signal });
  } catch (error) {
    failure = error;
  } finally {
    progress.event('lab: stopping the pods');
    await cluster.stop();
  }
  if (abort.signal.aborted) {
    console.error('lab: interrupted; everything it started has stopped');
    return 130;
  }
  if (!phases) {
    console.error(`lab: ${errorText(failure)}`);
    return 1;
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
