// What runs beside the pods for the post's clients, which call from the host as the post's terminals did:
// the mesh sidecar on a port of its own (`lab up --mesh-port`), for the in-mesh client and for the user's
// own. The strategies' parts come from their folders instead (strategy-folders.ts).
import { isAddressInUse, PortInUseError } from '../../common/errors.js';
import type { Cluster } from '../cluster.js';
import type { BalancerName } from '../data-plane/balancer.js';
import type { Mesh } from '../data-plane/mesh.js';
import type { HostPart, HostParts } from './clients.js';

export const SERVER = 'addr-server';
export const AGED = 'addr-server-aged';

export interface PartsOptions {
  /** where the mesh for in-mesh clients listens (0: any free port), and how it balances */
  meshPort: number;
  meshBalancer: BalancerName;
  /** told of what a part found that a user should know (a Linkerd annotation it refused) */
  say: (line: string) => void;
}

export class Parts {
  readonly #cluster: Cluster;
  readonly #options: PartsOptions;
  /** every mesh of the run by name: the post's ('mesh'), and each meshed strategy's sidecar */
  readonly meshes = new Map<string, Mesh>();

  constructor(cluster: Cluster, options: PartsOptions) {
    this.#cluster = cluster;
    this.#options = options;
  }

  /** Starts the parts `needed`; says where the post's clients reach the lab. */
  async start(needed: ReadonlySet<HostPart>): Promise<HostParts> {
    const cluster = this.#cluster;
    const port = (name: string) => cluster.kubeProxy.nodePort('grpc-lb', SERVER, name) ?? 0;
    const running: HostParts = {
      service: { http: port('http'), grpc: port('grpc') },
      kubeconfig: cluster.kubeconfig,
      unavailable: {},
    };
    if (needed.has('mesh'))
      running.mesh = await this.sidecar('mesh', SERVER, this.#options.meshBalancer, this.#options.meshPort);
    return running;
  }

  /** A sidecar over a Service, as Linkerd's proxy reads its annotations, listening on `port` (0: any free one). */
  async sidecar(name: string, service: string, balancer: BalancerName, port = 0): Promise<number> {
    const { mesh, warnings } = this.#cluster.sidecar(service, balancer);
    for (const warning of warnings) this.#options.say(`lab: ${warning}`);
    this.meshes.set(name, mesh);
    try {
      return await mesh.listen(port);
    } catch (error) {
      throw isAddressInUse(error) ? new PortInUseError(port, 'the mesh sidecar', '127.0.0.1', { cause: error }) : error;
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.meshes.values()].map((mesh) => mesh.close()));
  }
}
