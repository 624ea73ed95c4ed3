// What runs beside the pods for the clients the lab was asked to run, and only that: a second Deployment
// whose servers age their connections out (a server setting changes every client of those pods, so the
// baseline must not share them), headless Services and the cluster DNS that answers them, an xDS control
// plane, nginx at the edge, the mesh sidecars. Each part follows the endpoints in the API, as its real
// counterpart does.
import { rmSync } from 'node:fs';
import { isAddressInUse, PortInUseError } from '../../common/errors.js';
import { writeKubeconfig } from '../api/kubeconfig.js';
import type { KubeObject } from '../api/store.js';
import type { Cluster } from '../cluster.js';
import type { BalancerName } from '../data-plane/balancer.js';
import { DnsServer } from '../data-plane/dns-server.js';
import { EdgeProxy, findNginx, NGINX_INSTALL } from '../data-plane/edge-proxy.js';
import { accrualFromAnnotations, requestTimeoutFromAnnotations } from '../data-plane/linkerd-annotations.js';
import { Mesh } from '../data-plane/mesh.js';
import { XdsServer } from '../data-plane/xds-server.js';
import { dnsName, HEADLESS, HEADLESS_AGED, NAMESPACE, type Part, type RunningParts } from './clients.js';

export const SERVER = 'addr-server';
export const AGED = 'addr-server-aged';
/** The Service a mesh with failure accrual balances over: the server's pods, annotated as Linkerd reads it. */
export const ACCRUAL = 'addr-server-accrual';

type MeshPart = 'mesh' | 'mesh-p2c' | 'mesh-p2c-accrual';

export interface PartsOptions {
  /** the server's Deployment and Service as the manifest has them */
  manifest: readonly KubeObject[];
  /** the +age Deployment's max connection age */
  connectionAgeMs: number;
  /** where the mesh for in-mesh clients listens (0: any free port), and how it balances */
  meshPort: number;
  meshBalancer: BalancerName;
  /** the kubeconfig's path, for k8s:/// clients (default: a file in the temporary folder) */
  kubeconfig?: string;
  /** told of what a part found that a user should know (a Linkerd annotation it refused) */
  say: (line: string) => void;
}

/** The +age Deployment and its Services: the server's, renamed, its pods labelled apart, with the age set. */
export function agedObjects(manifest: readonly KubeObject[], connectionAgeMs: number): KubeObject[] {
  const rename = (labels: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(labels ?? {}).map(([k, v]) => [k, v === SERVER ? AGED : v]));
  return manifest.flatMap((object): KubeObject[] => {
    if (object.metadata.name !== SERVER) return [];
    const copy = structuredClone(object);
    copy.metadata = { name: AGED, labels: rename(copy.metadata.labels) };
    if (copy.kind === 'Deployment') {
      const spec = copy.spec as {
        selector: { matchLabels: Record<string, string> };
        template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ env?: unknown[] }> } };
      };
      spec.selector.matchLabels = rename(spec.selector.matchLabels);
      spec.template.metadata.labels = rename(spec.template.metadata.labels);
      const container = spec.template.spec.containers[0];
      if (container) {
        container.env = [
          ...(container.env ?? []),
          { name: 'ADDR_SERVER_MAX_CONNECTION_AGE_MS', value: String(connectionAgeMs) },
        ];
      }
      return [copy];
    }
    if (copy.kind === 'Service') {
      const spec = copy.spec as { selector?: Record<string, string>; ports?: Array<{ nodePort?: number }> };
      spec.selector = rename(spec.selector);
      for (const port of spec.ports ?? []) delete port.nodePort; // any free ones
      return [copy];
    }
    return [];
  });
}

/**
 * The Service a mesh with failure accrual balances over: the server's Service (ClusterIP: in-mesh clients
 * reach it through their sidecar), renamed, with Linkerd's annotation that turns accrual on — on a cluster,
 * `kubectl annotate svc addr-server balancer.linkerd.io/failure-accrual=consecutive` does the same to the
 * Service itself (https://linkerd.io/docs/reference/circuit-breaking/).
 */
export function accrualService(manifest: readonly KubeObject[]): KubeObject[] {
  return manifest.flatMap((object): KubeObject[] => {
    if (object.kind !== 'Service' || object.metadata.name !== SERVER) return [];
    const spec = structuredClone(object.spec ?? {}) as { type?: string; ports?: Array<{ nodePort?: number }> };
    spec.type = 'ClusterIP';
    for (const port of spec.ports ?? []) delete port.nodePort;
    return [
      {
        ...object,
        metadata: {
          name: ACCRUAL,
          labels: object.metadata.labels,
          annotations: { 'balancer.linkerd.io/failure-accrual': 'consecutive' },
        },
        spec,
      },
    ];
  });
}

/** A headless Service (clusterIP: None) over the pods of `app`, for DNS-based client balancing. */
export function headlessService(name: string, app: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { app } },
    spec: { clusterIP: 'None', selector: { app }, ports: [{ name: 'grpc', port: 30051, targetPort: 'grpc' }] },
  };
}

export class Parts {
  readonly #cluster: Cluster;
  readonly #options: PartsOptions;
  readonly dns: DnsServer[] = [];
  xds: XdsServer | undefined;
  edge: EdgeProxy | undefined;
  readonly meshes = new Map<MeshPart, Mesh>();
  #kubeconfig: string | undefined;

  constructor(cluster: Cluster, options: PartsOptions) {
    this.#cluster = cluster;
    this.#options = options;
  }

  /** Starts the parts `needed` (and those they need); a part that cannot run here is said in `unavailable`. */
  async start(needed: ReadonlySet<Part>): Promise<RunningParts> {
    const cluster = this.#cluster;
    const port = (service: string, name: string) => cluster.kubeProxy.nodePort('grpc-lb', service, name) ?? 0;
    const running: RunningParts = {
      service: { http: port(SERVER, 'http'), grpc: port(SERVER, 'grpc') },
      unavailable: {},
      ownPodAddresses: cluster.network.ownAddresses,
    };
    if (needed.has('aged') || needed.has('dns-aged')) {
      await cluster.apply(agedObjects(this.#options.manifest, this.#options.connectionAgeMs));
      running.aged = { grpc: port(AGED, 'grpc') };
    }
    if (needed.has('dns')) {
      await cluster.apply([headlessService(HEADLESS, SERVER)]);
      running.dns = await this.#dns(HEADLESS);
    }
    if (needed.has('dns-aged')) {
      await cluster.apply([headlessService(HEADLESS_AGED, AGED)]);
      running.dnsAged = await this.#dns(HEADLESS_AGED);
    }
    if (needed.has('xds')) {
      this.xds = new XdsServer(SERVER, cluster.endpoints(SERVER));
      const xdsPort = await this.xds.listen(0);
      running.xds = { port: xdsPort, bootstrap: this.xds.bootstrap(xdsPort, 'grpc-lb-lab') };
    }
    if (needed.has('edge')) {
      const nginx = findNginx();
      if (!nginx) running.unavailable.edge = NGINX_INSTALL;
      else {
        this.edge = new EdgeProxy(nginx, cluster.endpoints(SERVER));
        try {
          running.edge = await this.edge.listen(0);
        } catch (error) {
          running.unavailable.edge = (error as Error).message; // its row says why; the others go on
        }
      }
    }
    if (needed.has('mesh'))
      running.mesh = await this.#mesh('mesh', SERVER, this.#options.meshBalancer, this.#options.meshPort);
    if (needed.has('mesh-p2c')) running.meshP2c = await this.#mesh('mesh-p2c', SERVER, 'p2c-ewma', 0);
    if (needed.has('mesh-p2c-accrual')) {
      await cluster.apply(accrualService(this.#options.manifest));
      running.meshP2cAccrual = await this.#mesh('mesh-p2c-accrual', ACCRUAL, 'p2c-ewma', 0);
    }
    if (needed.has('kubeconfig')) {
      this.#kubeconfig = await writeKubeconfig(cluster.api.url, this.#options.kubeconfig);
      running.kubeconfig = this.#kubeconfig;
    }
    return running;
  }

  async #dns(service: string): Promise<number> {
    const server = new DnsServer(dnsName(service), this.#cluster.endpoints(service));
    this.dns.push(server);
    return server.listen(0);
  }

  /** A mesh sidecar over a Service, with the failure accrual and request timeout its annotations ask for, as Linkerd reads them. */
  async #mesh(name: MeshPart, service: string, balancer: BalancerName, port: number): Promise<number> {
    const annotations = this.#cluster.store.get('services', NAMESPACE, service)?.metadata.annotations;
    const accrual = accrualFromAnnotations(annotations);
    const timeout = requestTimeoutFromAnnotations(annotations);
    for (const warning of [accrual.warning, timeout.warning])
      if (warning) this.#options.say(`lab: Service ${service}: ${warning}`);
    const mesh = new Mesh(this.#cluster.endpoints(service), {
      balancer,
      accrual: accrual.policy,
      requestTimeoutMs: timeout.timeoutMs,
    });
    this.meshes.set(name, mesh);
    try {
      return await mesh.listen(port);
    } catch (error) {
      throw isAddressInUse(error) ? new PortInUseError(port, 'the mesh sidecar', '127.0.0.1', { cause: error }) : error;
    }
  }

  async stop(): Promise<void> {
    if (this.#kubeconfig && !this.#options.kubeconfig) rmSync(this.#kubeconfig, { force: true });
    await Promise.allSettled([
      this.edge?.close(),
      this.xds?.close(),
      ...this.dns.map((dns) => dns.close()),
      ...[...this.meshes.values()].map((mesh) => mesh.close()),
    ]);
  }
}
