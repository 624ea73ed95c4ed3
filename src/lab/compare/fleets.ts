// What `lab compare` runs its strategies against: two Deployments of the same manifest, scaled by the
// same script — the plain one, and one whose servers send GOAWAY at a max connection age (a server
// setting changes every client of those pods, so the baseline `l4` must not share them) — and the
// data-plane parts the strategies need beside each: cluster DNS for a headless Service, an xDS control
// plane, nginx at the edge, a second sidecar with Linkerd's balancer.
import { rmSync } from 'node:fs';
import { writeKubeconfig } from '../api/kubeconfig.js';
import { Cluster, NAMESPACE } from '../cluster.js';
import type { Manifest } from '../control-plane/manifest.js';
import { DnsServer } from '../data-plane/dns-server.js';
import { EdgeProxy, findNginx, NGINX_INSTALL } from '../data-plane/edge-proxy.js';
import { MeshProxy } from '../data-plane/mesh-proxy.js';
import { XdsServer } from '../data-plane/xds-server.js';
import type { ClientSpec } from '../workloads/workload.js';
import type { Fleet, Strategy } from './strategies.js';

export const HEADLESS_NAME = `addr-server-headless.${NAMESPACE}.svc.cluster.local`;
const EPHEMERAL = { http: 0, grpc: 0, mesh: 0, api: 0 };

/** The manifest with the server's max connection age set, as one would set it in its env. */
export function agedManifest(manifest: Manifest, ageMs: number): Manifest {
  const variable = { name: 'ADDR_SERVER_MAX_CONNECTION_AGE_MS', value: String(ageMs) };
  const deployment = structuredClone(manifest.objects.deployment) as {
    spec: { template: { spec: { containers: Array<{ env?: unknown[] }> } } };
  };
  const container = deployment.spec.template.spec.containers[0];
  if (container) container.env = [...(container.env ?? []), variable];
  return {
    ...manifest,
    env: [...manifest.env, variable],
    objects: { ...manifest.objects, deployment: deployment as unknown as Manifest['objects']['deployment'] },
  };
}

export interface FleetOptions {
  serverBin: string;
  clientGrpc: string;
  manifest: Manifest;
  connectionAgeMs: number;
  podCidrs: Record<Fleet, string>;
}

export class Fleets {
  readonly clusters: Record<Fleet, Cluster>;
  readonly dns: Record<Fleet, DnsServer>;
  readonly xds: XdsServer;
  readonly meshP2c: MeshProxy;
  readonly edge: EdgeProxy | undefined;
  /** why nginx is not there to measure: not installed, or it would not start */
  #edgeMissing: string | undefined;
  readonly #options: FleetOptions;
  #ports = { dnsPlain: 0, dnsAged: 0, xds: 0, meshP2c: 0, edge: 0 };
  #kubeconfig = '';

  constructor(options: FleetOptions) {
    this.#options = options;
    const { serverBin, manifest } = options;
    this.clusters = {
      plain: new Cluster({ serverBin, manifest, podCidr: options.podCidrs.plain }),
      aged: new Cluster({
        serverBin,
        manifest: agedManifest(manifest, options.connectionAgeMs),
        podCidr: options.podCidrs.aged,
      }),
    };
    const endpoints = (fleet: Fleet) => this.clusters[fleet].deployment.endpoints;
    this.dns = {
      plain: new DnsServer(HEADLESS_NAME, endpoints('plain')),
      aged: new DnsServer(HEADLESS_NAME, endpoints('aged')),
    };
    this.xds = new XdsServer('addr-server', endpoints('plain'));
    this.meshP2c = new MeshProxy(endpoints('plain'), { balancer: 'p2c-ewma' });
    const nginx = findNginx();
    this.edge = nginx ? new EdgeProxy(nginx, endpoints('plain')) : undefined;
    if (!nginx) this.#edgeMissing = NGINX_INSTALL;
  }

  /** Starts both Deployments with one replica, then the parts beside them. */
  async start(): Promise<void> {
    await this.clusters.plain.start(EPHEMERAL, 1);
    await this.clusters.aged.start(EPHEMERAL, 1);
    let edge = 0;
    try {
      if (this.edge) edge = await this.edge.listen(0);
    } catch (error) {
      this.#edgeMissing = (error as Error).message; // its row says why; the others go on
    }
    this.#ports = {
      edge,
      dnsPlain: await this.dns.plain.listen(0),
      dnsAged: await this.dns.aged.listen(0),
      xds: await this.xds.listen(0),
      meshP2c: await this.meshP2c.listen(0),
    };
    this.#kubeconfig = await writeKubeconfig(this.clusters.plain.api.url);
  }

  async stop(): Promise<void> {
    if (this.#kubeconfig) rmSync(this.#kubeconfig, { force: true });
    await Promise.allSettled([
      this.edge?.close(),
      this.xds.close(),
      this.meshP2c.close(),
      this.dns.plain.close(),
      this.dns.aged.close(),
    ]);
    await Promise.allSettled([this.clusters.plain.stop(), this.clusters.aged.stop()]);
  }

  /** The client a strategy runs, or why it cannot run here. */
  client(strategy: Strategy): { spec: ClientSpec; shared?: string } | { unavailable: string } {
    const { clusters } = this;
    const ports = this.#ports;
    const bin = this.#options.clientGrpc;
    const spec = (target: string, more: Partial<ClientSpec> = {}): ClientSpec => ({
      name: strategy.name,
      protocol: 'grpc',
      path: 'l7',
      bin,
      target,
      ...more,
    });
    const grpcPort = this.#options.manifest.ports.grpc ?? 30051;
    const podAddresses = clusters.plain.ownPodAddresses;
    const noPodAddresses = {
      unavailable: 'pods have no addresses of their own on this machine, so no client can dial them',
    };
    const dnsClient = (port: number) =>
      podAddresses
        ? {
            spec: spec(`dns://127.0.0.1:${port}/${HEADLESS_NAME}:${grpcPort}`, {
              args: ['--lb', 'round_robin'],
              env: { GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'true' },
            }),
            shared: 'the DNS server',
          }
        : noPodAddresses;
    switch (strategy.name) {
      case 'l4':
        return { spec: spec(`127.0.0.1:${clusters.plain.ports.grpc}`, { path: 'l4' }), shared: 'the Service proxy' };
      case 'l4+age':
        return { spec: spec(`127.0.0.1:${clusters.aged.ports.grpc}`, { path: 'l4' }), shared: 'the Service proxy' };
      case 'dns':
        return dnsClient(ports.dnsPlain);
      case 'dns+age':
        return dnsClient(ports.dnsAged);
      case 'k8s':
        if (!podAddresses) return noPodAddresses;
        return {
          spec: spec(`k8s:///addr-server.${NAMESPACE}:grpc`, { env: { KUBECONFIG: this.#kubeconfig } }),
          shared: 'the Kubernetes API',
        };
      case 'xds':
        if (!podAddresses) return noPodAddresses;
        return {
          spec: spec('xds:///addr-server', {
            env: { GRPC_XDS_BOOTSTRAP_CONFIG: this.xds.bootstrap(ports.xds, 'lab-compare') },
          }),
          shared: 'the xDS control plane',
        };
      case 'edge':
        return this.#edgeMissing ? { unavailable: this.#edgeMissing } : { spec: spec(`127.0.0.1:${ports.edge}`) };
      case 'mesh':
        return { spec: spec(`127.0.0.1:${clusters.plain.ports.mesh}`), shared: 'the mesh proxy' };
      case 'mesh-p2c':
        return { spec: spec(`127.0.0.1:${ports.meshP2c}`), shared: 'the mesh proxy' };
      default:
        return { unavailable: `unknown strategy ${strategy.name}` };
    }
  }
}
