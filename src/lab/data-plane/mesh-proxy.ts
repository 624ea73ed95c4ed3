// The lab's view of the mesh from before the mesh told its events: a count of requests per pod, a hook
// per request, and a line of English per thing it noticed. It stands between Mesh and the lab (the
// cluster, the dashboard, `lab up`'s table) until they subscribe to Mesh's events themselves; then this
// file goes, and the words with it.
import { EventEmitter } from 'node:events';
import type { EndpointSource } from './endpoint-source.js';
import { Mesh, type MeshOptions } from './mesh.js';

export type { MeshOptions } from './mesh.js';

export class MeshProxy extends EventEmitter<{ event: [message: string] }> {
  readonly core: Mesh;
  /** Requests sent to each pod IP so far. */
  readonly requests = new Map<string, number>();
  /** Told of each request as it is sent to a pod; what it returns is called when the request ends. */
  onRequest: ((ip: string) => () => void) | undefined;
  readonly #observed = new Map<number, () => void>();

  constructor(endpoints: EndpointSource, options: MeshOptions = {}) {
    super();
    const mesh = new Mesh(endpoints, options);
    this.core = mesh;
    mesh.on('request', ({ id, ip }) => {
      this.requests.set(ip, (this.requests.get(ip) ?? 0) + 1);
      const ended = this.onRequest?.(ip);
      if (ended) this.#observed.set(id, ended);
    });
    mesh.on('response', ({ id }) => {
      this.#observed.get(id)?.();
      this.#observed.delete(id);
    });
    const sent = (n: number) => `${n} request${n === 1 ? '' : 's'} sent since its last response`;
    mesh.on('tripped', ({ ip, cause, forMs, failures, unanswered }) => {
      const why = cause === 'probe' ? 'failed its probe' : `failed ${failures} calls in a row`;
      this.emit(
        'event',
        `mesh: ${ip} ${why}: out of the balancer for ${(forMs / 1000).toFixed(1)} s (${sent(unanswered)})`,
      );
    });
    mesh.on('recovered', ({ ip }) => this.emit('event', `mesh: ${ip} answered its probe: back in the balancer`));
    mesh.on('disconnected', ({ ip, cause, detail, unanswered }) => {
      if (cause === 'ping' || cause === 'connect-timeout')
        this.emit('event', `mesh: ${ip} ${detail}: connection dropped (${sent(unanswered)})`);
    });
    mesh.on('failfast', ({ state }) =>
      this.emit(
        'event',
        state === 'entered' ? 'mesh: no endpoint ready in time: failing fast' : 'mesh: an endpoint is ready again',
      ),
    );
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return this.core.listen(port, host);
  }

  close(): Promise<void> {
    return this.core.close();
  }
}
