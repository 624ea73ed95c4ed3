// The Service's endpoints: the ready pods, as the EndpointSlice controller publishes them.
// Proxies subscribe and follow every change at once.
import { EventEmitter } from 'node:events';

export interface Endpoint {
  ip: string;
  httpPort: number;
  grpcPort: number;
}

export class Endpoints extends EventEmitter<{ change: [Endpoint[]] }> {
  readonly #ready = new Map<string, Endpoint>();

  list(): Endpoint[] {
    return [...this.#ready.values()];
  }

  add(endpoint: Endpoint): void {
    this.#ready.set(endpoint.ip, endpoint);
    this.emit('change', this.list());
  }

  remove(ip: string): void {
    if (this.#ready.delete(ip)) this.emit('change', this.list());
  }
}
