// The emulated cluster: the Kubernetes API over a store of objects, a Deployment of addr-server pods
// (each at its own loopback address, run from the kit's manifest), the Service addr-server (two L4
// proxies on the NodePorts) and a mesh sidecar (an L7 proxy) for in-mesh clients. Data flows one way:
// control plane → endpoints → proxies → pods; the API publishes the state and takes scale and delete.
import { createServer } from 'node:net';
import { KubeApiServer } from './api/api-server.js';
import { Deployment, podTemplateHash } from './control-plane/deployment.js';
import { kubeletEnv, type ClusterService } from './control-plane/kubelet-env.js';
import type { Manifest } from './control-plane/manifest.js';
import { Publisher } from './control-plane/publisher.js';
import { ObjectStore } from './api/store.js';
import type { BalancerName } from './data-plane/balancer.js';
import { MeshProxy } from './data-plane/mesh-proxy.js';
import { ServiceProxy } from './data-plane/service-proxy.js';

export interface ClusterPorts {
  /** The Service's HTTP NodePort (the post: 30080). 0: any free port. */
  http: number;
  /** The Service's gRPC NodePort (the post: 30051). */
  grpc: number;
  /** The mesh sidecar's outbound port for in-mesh clients (Linkerd's is 4140). */
  mesh: number;
  /** The Kubernetes API. */
  api: number;
}

export interface ClusterOptions {
  serverBin: string;
  manifest: Manifest;
  meshBalancer?: BalancerName;
  /** the pod network, a /24 inside 127.0.0.0/8: pods get .8, .9, … (kind's pods are in 10.244.0.0/16) */
  podCidr?: string;
  /** origins besides the API's own that may change state (the dashboard's) */
  allowedOrigins?: string[];
}

export const NAMESPACE = 'grpc-lb';
export const DEFAULT_POD_CIDR = '127.244.0.0/24';
export const MAX_REPLICAS = 20;

/** A port or address the cluster cannot have: names it and the flag that changes it. */
export class ClusterError extends Error {}

export class Cluster {
  readonly store = new ObjectStore();
  readonly deployment: Deployment;
  readonly http: ServiceProxy;
  readonly grpc: ServiceProxy;
  readonly mesh: MeshProxy;
  readonly api: KubeApiServer;
  readonly #publisher: Publisher;
  readonly #manifest: Manifest;
  readonly #podPrefix: string;
  readonly clusterIps: ClusterService[];
  /** false where the machine cannot bind addresses in 127.0.0.0/8 other than 127.0.0.1 (macOS) */
  ownPodAddresses = true;
  ports: ClusterPorts = { http: 0, grpc: 0, mesh: 0, api: 0 };

  constructor({
    serverBin,
    manifest,
    meshBalancer = 'round-robin',
    podCidr = DEFAULT_POD_CIDR,
    allowedOrigins,
  }: ClusterOptions) {
    this.#manifest = manifest;
    this.#podPrefix = podCidr.replace(/\.0\/24$/, '.');
    // ClusterIPs from kind's service range, as labels: the lab's Services are reached on their NodePorts.
    const services: ClusterService[] = manifest.services.map((service, i) => ({
      ...service,
      clusterIp: `10.96.0.${10 + i}`,
    }));
    const apiServer: ClusterService = {
      name: 'kubernetes',
      clusterIp: '10.96.0.1',
      ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
    };
    const facts = { namespace: NAMESPACE, nodeName: 'lab', hostIp: '127.0.0.1' };
    const templateHash = podTemplateHash(manifest.objects.deployment.spec);
    this.deployment = new Deployment({
      name: manifest.deployment,
      templateHash,
      podIp: (n) => `${this.#podPrefix}${8 + (n % 240)}`,
      terminationGraceMs: manifest.terminationGracePeriodMs,
      podSpec: ({ name, ip }) => ({
        serverBin,
        env: kubeletEnv(manifest, { ...facts, name, ip }, services, apiServer),
        ownAddress: this.ownPodAddresses,
        readiness: manifest.readiness,
      }),
    });
    const { endpoints } = this.deployment;
    this.http = new ServiceProxy(endpoints, (endpoint) => endpoint.httpPort);
    this.grpc = new ServiceProxy(endpoints, (endpoint) => endpoint.grpcPort);
    this.mesh = new MeshProxy(endpoints, { balancer: meshBalancer });
    // What the mesh notices about a pod (it went silent, it came back) joins the deployment's events.
    this.mesh.on('event', (message) => this.deployment.emit('event', message));
    this.#publisher = new Publisher(this.store, NAMESPACE, manifest, this.deployment, templateHash);
    this.api = new KubeApiServer({
      store: this.store,
      maxReplicas: MAX_REPLICAS,
      allowedOrigins,
      podLogs: ({ pod }) => this.#publisher.logs(pod),
    });
    this.clusterIps = services;
  }

  /** Opens the ports (one clear line when one is taken), publishes the objects, starts the replicas. */
  async start(ports: ClusterPorts, replicas = this.#manifest.replicas): Promise<void> {
    const open = async (what: string, flag: string, listen: () => Promise<number>, port: number) => {
      try {
        return await listen();
      } catch (error) {
        await this.stop();
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new ClusterError(
            `port ${port} (${what}) is already in use on 127.0.0.1 — another lab? Change it with ${flag}`,
            { cause: error },
          );
        }
        throw error;
      }
    };
    this.ports = {
      api: await open('the Kubernetes API', '--api-port', () => this.api.listen(ports.api), ports.api),
      http: await open(
        "the Service's HTTP NodePort",
        '--http-node-port',
        () => this.http.listen(ports.http),
        ports.http,
      ),
      grpc: await open(
        "the Service's gRPC NodePort",
        '--grpc-node-port',
        () => this.grpc.listen(ports.grpc),
        ports.grpc,
      ),
      mesh: await open('the mesh proxy', '--mesh-port', () => this.mesh.listen(ports.mesh), ports.mesh),
    };
    this.ownPodAddresses = await canBind(`${this.#podPrefix}1`);
    this.#publisher.start({
      clusterIp: (name) => this.clusterIps.find((s) => s.name === name)?.clusterIp ?? '10.96.0.10',
      nodePorts: { http: this.ports.http, grpc: this.ports.grpc },
    });
    this.deployment.scale(replicas);
  }

  async stop(): Promise<void> {
    this.#publisher.stop();
    await this.deployment.stop();
    await Promise.allSettled([this.http.close(), this.grpc.close(), this.mesh.close(), this.api.close()]);
  }
}

/** Whether this machine can listen on `address` (all of 127.0.0.0/8 is local on Linux; macOS has only 127.0.0.1). */
function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, address, () => probe.close(() => resolve(true)));
  });
}
