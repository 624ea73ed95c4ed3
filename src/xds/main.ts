// xds-control-plane: proxyless gRPC's control plane on a cluster. It watches a Service's EndpointSlices
// through the Kubernetes API and serves their ready pods over ADS to xds:///SERVICE clients; the ADS
// server is the one the lab runs (ads-server.ts). One logfmt line per event on stdout.
import * as k8s from '@kubernetes/client-node';
import { HealthImplementation } from 'grpc-health-check';
import { hideBin } from 'yargs/helpers';
import { errorText, optionsOrExit } from '../common/cli.js';
import { loadKubeConfig } from '../common/kube-api.js';
import { log } from '../common/log.js';
import { adsListeningFields } from '../common/output.js';
import { onShutdown } from '../common/shutdown.js';
import { AdsServer } from './ads-server.js';
import { parseControlPlaneArgs } from './options.js';
import { ServiceSlices } from './service-slices.js';

const options = optionsOrExit('xds-control-plane', () => parseControlPlaneArgs(hideBin(process.argv), process.env));

let kubeConfig: k8s.KubeConfig;
try {
  kubeConfig = loadKubeConfig(k8s);
} catch (error) {
  console.error(`xds-control-plane: kubeconfig: ${errorText(error)}`);
  process.exit(1);
}
const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
const namespace = options.namespace ?? context?.namespace ?? 'default';
const service = `${namespace}/${options.service}`;

const slices = new ServiceSlices(kubeConfig, { namespace, service: options.service, port: options.endpointPort });
// Ready (for a readinessProbe, grpc.health.v1 on the ADS port) once the slices have been listed.
const health = new HealthImplementation({ '': 'NOT_SERVING' });
const ads = new AdsServer(options.service, slices, { addServices: (server) => health.addToServer(server) });

onShutdown(async (signal) => {
  log('shutting down', { signal, clients: ads.clients });
  await slices.stop();
  await ads.close();
  log('stopped');
  process.exit(0);
}, options.exitOnStdinClose);

slices.on('synced', (note) => {
  health.setStatus('', 'SERVING');
  log('listed', { service, ready: slices.list().length, note: note || undefined });
});
slices.on('change', () => {
  const pods = slices.list().map(({ address, grpcPort }) => `${address}:${grpcPort}`);
  log('endpoints', { service, version: ads.endpointsVersion, ready: pods.length, pods: pods.join(',') });
});
slices.on('error', (message, retryMs) =>
  log('kubernetes API failed; watching again later', { service, error: message, retry_ms: retryMs }, 'warn'),
);

let port: number;
try {
  port = await ads.listen(options.adsPort, options.host);
} catch (error) {
  const text = errorText(error);
  const why = /EADDRINUSE|address already in use/i.test(text)
    ? `port ${options.adsPort} is already in use on ${options.host}`
    : `cannot listen on ${options.host}:${options.adsPort}: ${text}`;
  console.error(`xds-control-plane: ${why}`);
  process.exit(1);
}
log('listening', {
  ...adsListeningFields(options.host, port),
  service,
  endpoint_port: options.endpointPort,
  api: kubeConfig.getCurrentCluster()?.server,
});
slices.start();
