// `out/lab run` (the default, = npm start): replays the post on the emulated cluster, prints a table
// per phase and a verdict per client, and exits 0 only if the lab saw what the post saw.
import { rmSync, writeFileSync } from 'node:fs';
import { writeKubeconfig } from '../api/kubeconfig.js';
import { errorText } from '../../common/cli.js';
import { onShutdown } from '../../common/shutdown.js';
import type { BalancerName } from '../data-plane/balancer.js';
import type { Manifest } from '../control-plane/manifest.js';
import type { ClusterPorts } from '../cluster.js';
import { startCluster } from './start-cluster.js';
import { Progress } from './progress.js';
import { reportJson, reportText } from './report.js';
import { verdicts } from './verdicts.js';
import { PHASES, runScenario, type Bins } from './scenario.js';

export interface RunOptions {
  meshBalancer: BalancerName;
  phaseSeconds: number;
  interval: number;
  json: string | undefined;
  ports: ClusterPorts;
  manifest: Manifest;
  podCidr: string;
}

export async function run(options: RunOptions, bins: Bins): Promise<number> {
  const progress = new Progress();
  const abort = new AbortController();
  onShutdown(() => abort.abort());
  const cluster = await startCluster(
    {
      serverBin: bins.server,
      manifest: options.manifest,
      meshBalancer: options.meshBalancer,
      podCidr: options.podCidr,
    },
    options.ports,
    0,
  );
  cluster.deployment.on('event', (message) => progress.event(`  ${message}`));
  const { http, grpc, mesh } = cluster.ports;
  progress.event(
    `lab: Service addr-server on 127.0.0.1:${http} (HTTP), :${grpc} (gRPC); mesh :${mesh}; API :${cluster.ports.api}`,
  );
  cluster.deployment.scale(PHASES[0].replicas);
  let phases;
  let failure: unknown;
  let kubeconfig: string | undefined;
  try {
    kubeconfig = await writeKubeconfig(cluster.api.url);
    phases = await runScenario(cluster, progress, {
      phaseSeconds: options.phaseSeconds,
      intervalMs: options.interval,
      bins,
      signal: abort.signal,
      kubeconfig,
    });
  } catch (error) {
    failure = error;
  } finally {
    progress.event('lab: stopping the pods');
    await cluster.stop();
    if (kubeconfig) rmSync(kubeconfig, { force: true });
  }
  if (abort.signal.aborted) {
    console.error('lab: interrupted; everything it started has stopped');
    return 130;
  }
  if (!phases) {
    console.error(`lab: ${errorText(failure)}`);
    return 1;
  }

  const result = verdicts(phases);
  console.log(reportText(phases, result));
  if (options.json) {
    try {
      writeFileSync(options.json, `${JSON.stringify(reportJson(phases, result), null, 2)}\n`);
    } catch (error) {
      console.error(`lab: cannot write ${options.json}: ${errorText(error)}`);
      return 1;
    }
  }
  return result.ok ? 0 : 1;
}
