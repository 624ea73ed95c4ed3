// The Service as kube-proxy builds it: an L4 balancer. Each new TCP connection goes to one ready
// endpoint picked at random (iptables mode's statistic rule); the bytes of that connection then all
// go to that pod, whatever happens to the endpoints later.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { listen } from '../../common/listen.js';
import type { Endpoint, Endpoints } from './endpoints.js';

export class ServiceProxy {
  /** Connections opened to each pod IP so far: what an L4 balancer can see. */
  readonly connections = new Map<string, number>();
  /** Connections open now to each pod IP: where a long-lived client (gRPC) sits. */
  readonly open = new Map<string, number>();
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(endpoints: Endpoints, targetPort: (endpoint: Endpoint) => number) {
    this.#server = createServer((client) => {
      const ready = endpoints.list();
      const endpoint = ready[Math.floor(Math.random() * ready.length)];
      if (!endpoint) {
        client.resetAndDestroy(); // no endpoints: kube-proxy rejects the connection
        return;
      }
      this.connections.set(endpoint.ip, (this.connections.get(endpoint.ip) ?? 0) + 1);
      this.open.set(endpoint.ip, (this.open.get(endpoint.ip) ?? 0) + 1);
      client.once('close', () => {
        const left = (this.open.get(endpoint.ip) ?? 1) - 1;
        if (left > 0) this.open.set(endpoint.ip, left);
        else this.open.delete(endpoint.ip);
      });
      const upstream = connect(targetPort(endpoint), endpoint.address);
      for (const [socket, other] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.#sockets.add(socket);
        socket.setNoDelay(true);
        socket.on('error', () => other.destroy());
        socket.on('close', () => {
          this.#sockets.delete(socket);
          other.end(); // flush what is still queued for the other side, then close it
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return listen(this.#server, port, host);
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
