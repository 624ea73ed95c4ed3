// Starting the emulated cluster for a command: one line and exit 1 when a port is taken, and one line
// when this machine cannot give pods addresses of their own.
import { errorText } from '../../common/cli.js';
import { Cluster, type ClusterOptions, type ClusterPorts } from '../cluster.js';

export async function startCluster(options: ClusterOptions, ports: ClusterPorts, replicas?: number): Promise<Cluster> {
  const cluster = new Cluster(options);
  try {
    await cluster.start(ports, replicas);
  } catch (error) {
    console.error(`lab: ${errorText(error)}`);
    process.exit(1);
  }
  if (!cluster.ownPodAddresses) {
    console.error(
      'lab: this machine has no loopback addresses besides 127.0.0.1, so pods listen on 127.0.0.1 on ports of their own; ' +
        'pod IPs are labels, and k8s:/// clients cannot reach them',
    );
  }
  return cluster;
}
