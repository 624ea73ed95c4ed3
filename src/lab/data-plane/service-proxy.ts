// The Service as kube-proxy builds it: an L4 balancer. Each new TCP connection goes to one ready
// endpoint picked at random (iptables mode's statistic rule); the bytes of that connection then all
// go to that pod, whatever happens to the endpoints later. Like the kernel's NAT it passes each half of
// the connection on by itself: a client that sends its request and shuts its sending side (HTTP/1.0,
// nc, h2load) still gets the answer, and the pod's FIN reaches the client. The two sockets of a
// connection go together — an error or reset on either ends both — so that no descriptor outlives its
// connection. Its front door: at most `maxConnections` at once (each holds two descriptors), and a
// connection with no byte either way for `idleTimeoutMs` is closed.
import { connect, type Socket } from 'node:net';
import { FrontDoor } from '../../common/front-door.js';
import type { Endpoint } from './endpoints.js';
import type { EndpointSource } from './endpoint-source.js';

export interface ServiceProxyLimits {
  maxConnections: number;
  /** Close a connection that moved no byte either way for this long (0: never). */
  idleTimeoutMs: number;
}

export const SERVICE_PROXY_LIMITS: ServiceProxyLimits = { maxConnections: 1000, idleTimeoutMs: 60_000 };

export class ServiceProxy {
  /** Connections opened to each pod IP so far: what an L4 balancer can see. */
  readonly connections = new Map<string, number>();
  /** Connections open now to each pod IP: where a long-lived client (gRPC) sits. */
  readonly open = new Map<string, number>();
  readonly #door: FrontDoor;
  readonly #sockets = new Set<Socket>();

  constructor(
    endpoints: EndpointSource,
    targetPort: (endpoint: Endpoint) => number,
    limits: Partial<ServiceProxyLimits> = {},
  ) {
    const { maxConnections, idleTimeoutMs } = { ...SERVICE_PROXY_LIMITS, ...limits };
    this.#door = new FrontDoor({ maxConnections, allowHalfOpen: true }, (client) => {
      const ready = endpoints.list();
      const endpoint = ready[Math.floor(Math.random() * ready.length)];
      if (!endpoint) {
        client.resetAndDestroy(); // no endpoints: kube-proxy rejects the connection
        return;
      }
      this.#count(endpoint.ip, 1);
      const upstream = connect({
        port: targetPort(endpoint),
        host: endpoint.address,
        allowHalfOpen: true,
        noDelay: true,
      });
      this.#pair(client, upstream, () => this.#count(endpoint.ip, -1));
      if (idleTimeoutMs > 0) {
        // Reads and writes on the client's socket both count: it carries the bytes of both directions.
        client.setTimeout(idleTimeoutMs, () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream, { end: true });
      upstream.pipe(client, { end: true });
      client.resume();
    });
  }

  /** Sockets open now (two per connection, once the pod's side is up). */
  get sockets(): number {
    return this.#sockets.size;
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return this.#door.listen(port, host);
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const closed = this.#door.close();
    this.#door.destroyAll();
    return closed;
  }

  /**
   * The two sockets of one connection. pipe() passes the data and each end (FIN) on; when one socket
   * closes, the other finishes writing what it has queued and closes too; an error ends both at once.
   */
  #pair(client: Socket, upstream: Socket, closed: () => void): void {
    let open = 2;
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(socket);
      socket.on('error', () => {
        socket.destroy();
        // A reset (or a refused connection) reaches the other side as a reset, as through the kernel's NAT.
        if (other.destroyed) return;
        if (other.connecting) other.destroy();
        else other.resetAndDestroy();
      });
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (--open === 0) closed();
        if (other.destroyed) return;
        if (other.writableFinished || !other.writable) other.destroy();
        else other.end(() => other.destroy());
      });
    }
  }

  #count(ip: string, change: 1 | -1): void {
    if (change === 1) this.connections.set(ip, (this.connections.get(ip) ?? 0) + 1);
    const open = (this.open.get(ip) ?? 0) + change;
    if (open > 0) this.open.set(ip, open);
    else this.open.delete(ip);
  }
}
