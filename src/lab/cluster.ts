// The emulated cluster: a Deployment of addr-server pods, the Service addr-server (two L4 proxies on
// the NodePorts) and a mesh sidecar (an L7 proxy) for in-mesh clients. Data flows one way: control
// plane → endpoints → proxies → pods.
import { errorText } from '../common/cli.js';
import type { BalancerName } from './data-plane/balancer.js';
import { Deployment } from './control-plane/deployment.js';
import { kubeletEnv, type ClusterService } from './control-plane/kubelet-env.js';
import type { Manifest } from './control-plane/manifest.js';
import { MeshProxy } from './data-plane/mesh-proxy.js';
import { ServiceProxy } from './data-plane/service-proxy.js';

export interface ClusterPorts {
  /** The Service's HTTP NodePort (the post: 30080). 0: any free port. */
  http: number;
  /** The Service's gRPC NodePort (the post: 30051). */
  grpc: number;
  /** The mesh sidecar's outbound port for in-mesh clients (Linkerd's is 4140). */
  mesh: number;
}

export const NAMESPACE = 'grpc-lb';

export class Cluster {
  readonly deployment: Deployment;
  readonly http: ServiceProxy;
  readonly grpc: ServiceProxy;
  readonly mesh: MeshProxy;
  ports: ClusterPorts = { http: 0, grpc: 0, mesh: 0 };

  constructor(serverBin: string, manifest: Manifest, meshBalancer: BalancerName = 'round-robin') {
    // ClusterIPs from kind's service range, as labels: the lab's Services are reached on their NodePorts.
    const services: ClusterService[] = manifest.services.map((service, i) => ({ ...service, clusterIp: `10.96.0.${10 + i}` }));
    const apiServer: ClusterService = { name: 'kubernetes', clusterIp: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] };
    const pod = { namespace: NAMESPACE, nodeName: 'lab', hostIp: '127.0.0.1' };
    this.deployment = new Deployment({
      serverBin,
      podEnv: ({ name, ip }) => kubeletEnv(manifest, { ...pod, name, ip }, services, apiServer),
    });
    const { endpoints } = this.deployment;
    this.http = new ServiceProxy('HTTP', endpoints, (endpoint) => endpoint.httpPort);
    this.grpc = new ServiceProxy('gRPC', endpoints, (endpoint) => endpoint.grpcPort);
    this.mesh = new MeshProxy(endpoints, { balancer: meshBalancer });
    // What the mesh notices about a pod (it went silent, it came back) joins the deployment's events.
    this.mesh.on('event', (message) => this.deployment.emit('event', message));
  }

  /** Opens the ports (failing with one clear line when one is taken), then starts `replicas` pods. */
  async start(ports: ClusterPorts, replicas: number): Promise<void> {
    const open = async (what: string, flag: string, listen: () => Promise<number>, port: number) => {
      try {
        return await listen();
      } catch (error) {
        await this.stop();
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new Error(`port ${port} (${what}) is already in use on 127.0.0.1 — another lab? Change it with ${flag}`, { cause: error });
        }
        throw error;
      }
    };
    this.ports = {
      http: await open('the Service\'s HTTP NodePort', '--http-node-port', () => this.http.listen(ports.http), ports.http),
      grpc: await open('the Service\'s gRPC NodePort', '--grpc-node-port', () => this.grpc.listen(ports.grpc), ports.grpc),
      mesh: await open('the mesh proxy', '--mesh-port', () => this.mesh.listen(ports.mesh), ports.mesh),
    };
    this.deployment.scale(replicas);
  }

  async stop(): Promise<void> {
    await this.deployment.stop();
    await Promise.allSettled([this.http.close(), this.grpc.close(), this.mesh.close()]);
  }
}

/** Starts the cluster, or says in one line why it cannot (a port in use) and exits 1. */
export async function startOrExit(cluster: Cluster, ports: ClusterPorts, replicas: number): Promise<void> {
  try {
    await cluster.start(ports, replicas);
  } catch (error) {
    console.error(`lab: ${errorText(error)}`);
    process.exit(1);
  }
}
